// Session state and the idle-timeout warning (R-AUTH-1).
//
// The server owns the idle deadline (GET /session -> idle_expires_at). The
// page converts it to the local clock with a skew estimated from the
// response (server_time when present, else the Date header), learns the idle
// period, and assumes every foreground request slides the deadline by one
// period. Background polls (message count) are not activity. The warning
// opens when less than max(60 s, 20 % of the period) remains, capped at half
// the period so very short test periods still leave a quiet first half.

import {h} from './h.js';
import {api, onResponse, setCsrfToken} from './api.js';
import {openDialog} from './dialog.js';

export const session = {
    account: null,
    deadline: 0,        // local-clock ms when the server will drop the session
    period: 0,          // idle period in ms, 0 while unknown
    skew: 0,            // server clock minus local clock, ms
};

let tickTimer = null;
let warning = null;     // {close, update} while the warning dialog is open
let expiredHandler = () => {};

export function onExpired(fn) {
    expiredHandler = fn;
}

export function role() {
    return session.account ? session.account.role : null;
}

export function warnLeadMs() {
    const p = session.period;
    return Math.min(Math.max(60000, 0.2 * p), 0.5 * p);
}

function serverNowOf(info) {
    const b = info.body || {};
    const t = b.server_time ? Date.parse(b.server_time) : NaN;
    if (!Number.isNaN(t)) {
        return t;
    }
    if (!Number.isNaN(info.serverDate)) {
        // Date has whole seconds: the true time is on average half a second on
        return info.serverDate + 500;
    }
    return NaN;
}

/** Take idle_expires_at (and the clock) from a response that carries it. */
function learnDeadline(info, sliding) {
    const b = info.body || {};
    const exp = Date.parse(b.idle_expires_at);
    if (Number.isNaN(exp)) {
        return;
    }
    const mid = (info.clientSent + info.clientReceived) / 2;
    const serverNow = serverNowOf(info);
    if (!Number.isNaN(serverNow)) {
        session.skew = serverNow - mid;
    }
    if (typeof b.idle_timeout === 'number' && b.idle_timeout > 0) {
        session.period = b.idle_timeout * 1000;
    } else if (sliding && !Number.isNaN(serverNow)) {
        // the request itself just slid the deadline: what remains is the period
        const p = Math.round((exp - serverNow) / 1000) * 1000;
        if (p > session.period) {
            session.period = p;
        }
    }
    session.deadline = exp - session.skew;
}

onResponse((info) => {
    if (!session.account) {
        return;
    }
    if (info.status === 401 && !(info.method === 'POST' && info.path === '/session')
        && info.path !== '/session/verify') {
        const code = info.body && info.body.error ? info.body.error.code : '';
        expire(code === 'session_expired'
            ? 'Your session expired after a period of inactivity. Please sign in again.'
            : 'Your session has ended. Please sign in again.');
        return;
    }
    if (info.status >= 200 && info.status < 500 && info.status !== 401) {
        const b = info.body || {};
        if (b.idle_expires_at) {
            learnDeadline(info, !info.background);
        } else if (!info.background && session.period > 0) {
            session.deadline = info.clientSent + session.period;
        }
    }
});

/** GET /session: refresh account and deadline. Slides the idle timer. */
export async function refresh() {
    const r = await api.get('/session');
    session.account = r.account;
    if (r.csrf_token) {
        setCsrfToken(r.csrf_token);
    }
    return r;
}

export async function login(username, password) {
    const r = await api.post('/session', {username, password});
    setCsrfToken(r.csrf_token);
    session.account = r.account;
    session.period = 0;
    await refresh();
    start();
    return session.account;
}

export async function logout() {
    stop();
    try {
        await api.del('/session');
    } finally {
        clear();
    }
}

function clear() {
    session.account = null;
    session.deadline = 0;
    session.period = 0;
    setCsrfToken(null);
}

export function start() {
    stop();
    tickTimer = setInterval(tick, 250);
}

export function stop() {
    if (tickTimer) {
        clearInterval(tickTimer);
        tickTimer = null;
    }
    if (warning) {
        warning.close('stopped');
        warning = null;
    }
}

function expire(message, endOnServer = false) {
    if (!session.account) {
        return;
    }
    stop();
    if (endOnServer) {
        // The user was told they would be signed out: make it true on the
        // server too, even if something (a poll, another tab) slid it there.
        // request() builds its headers synchronously, before clear() below.
        api.del('/session').catch(() => {});
    }
    clear();
    expiredHandler(message);
}

function tick() {
    if (!session.account || !session.deadline || !session.period) {
        return;
    }
    const remaining = session.deadline - Date.now();
    if (remaining <= 0) {
        expire('Your session expired after a period of inactivity. Please sign in again.', true);
        return;
    }
    if (remaining <= warnLeadMs()) {
        if (!warning) {
            openWarning();
        }
        warning.update(remaining);
    } else if (warning) {
        // slid by activity elsewhere (another request, another tab)
        warning.close('slid');
        warning = null;
    }
}

function openWarning() {
    const count = h('strong', {'data-testid': 'idle-countdown'});
    const w = {close: () => {}, update: (ms) => {
        count.textContent = `${Math.max(0, Math.ceil(ms / 1000))} s`;
    }};
    warning = w;
    openDialog((close) => {
        w.close = close;
        const stay = h('button', {type: 'button', class: 'primary', 'data-testid': 'idle-stay',
            'data-autofocus': true}, 'Stay signed in');
        stay.addEventListener('click', async () => {
            stay.disabled = true;
            try {
                await refresh();
                close('stay');
            } catch (e) {
                stay.disabled = false;
            }
        });
        return {
            title: 'Your session is about to expire',
            testid: 'idle-dialog',
            body: [h('p', null, 'You have been inactive for a while. For your security you will be '
                + 'signed out in ', count, ' unless you continue.')],
            actions: [
                h('button', {type: 'button', class: 'secondary', 'data-testid': 'idle-logout',
                    onclick: () => close('logout')}, 'Sign out now'),
                stay,
            ],
        };
    }, {alert: true, noEscape: false}).then((v) => {
        if (warning === w) {
            warning = null;
        }
        if (v === 'logout') {
            document.dispatchEvent(new CustomEvent('esign:logout'));
        } else if (v === null && session.account) {
            // Escape = "I am here": slide the session like the button does
            refresh().catch(() => {});
        }
    });
}
