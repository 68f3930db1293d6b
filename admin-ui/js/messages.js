// In-site messages (R-NOTE-4): unread badge, poll every 15 s, pop-up for new ones.

import {h, replace} from './h.js';
import {api} from './api.js';

const POLL_MS = 15000;
let timer = null;
let lastUnread = -1;
let shownIds = new Set();

export function startPolling() {
    stopPolling();
    lastUnread = -1;
    shownIds = new Set();
    poll();
    timer = setInterval(poll, POLL_MS);
}

export function stopPolling() {
    if (timer) {
        clearInterval(timer);
        timer = null;
    }
    setBadge(0);
    hidePopup();
}

export function setBadge(n) {
    const badge = document.getElementById('msg-badge');
    const btn = document.getElementById('msg-button');
    if (!badge || !btn) {
        return;
    }
    badge.textContent = String(n);
    badge.hidden = !(n > 0);
    btn.setAttribute('aria-label', n > 0 ? `Messages, ${n} unread` : 'Messages');
}

/** Poll the unread count; on an increase fetch the unread messages and pop up the newest. */
export async function poll() {
    let n;
    try {
        const r = await api.get('/messages/count', null, {background: true});
        n = r && typeof r.unread === 'number' ? r.unread : 0;
    } catch (e) {
        return;     // 401 is handled by the session; others: try again next time
    }
    setBadge(n);
    if (n > 0 && n > lastUnread) {
        try {
            const r = await api.get('/messages', {unread: 1}, {background: true});
            const fresh = (r.items || []).filter((m) => !shownIds.has(m.id));
            fresh.forEach((m) => shownIds.add(m.id));
            if (fresh.length) {
                showPopup(fresh[0], fresh.length);
            }
        } catch (e) {
            // the badge is enough
        }
    }
    lastUnread = n;
}

export async function markRead(id) {
    await api.post(`/messages/${encodeURIComponent(id)}/read`);
    shownIds.add(id);
    await poll();
}

export function subjectOf(m) {
    return m.subject || m.title || label(m.type) || 'Message';
}

export function bodyOf(m) {
    return m.body || m.text || m.content || '';
}

function label(s) {
    return s ? String(s).replace(/_/g, ' ') : '';
}

function hidePopup() {
    const pop = document.getElementById('msg-popup');
    if (pop) {
        pop.hidden = true;
        pop.replaceChildren();
    }
}

function showPopup(m, count) {
    const pop = document.getElementById('msg-popup');
    if (!pop) {
        return;
    }
    const readBtn = h('button', {type: 'button', class: 'secondary',
        'data-testid': 'popup-read'}, 'Mark as read');
    readBtn.addEventListener('click', async () => {
        hidePopup();
        try {
            await markRead(m.id);
        } catch (e) {
            // stays unread; the list shows it
        }
    });
    replace(pop,
        h('h2', {class: 'popup-title'}, count > 1 ? `${count} new messages` : 'New message'),
        h('p', {class: 'popup-subject', 'data-testid': 'popup-subject'}, subjectOf(m)),
        h('p', {class: 'popup-body'}, bodyOf(m)),
        h('div', {class: 'popup-actions'},
            h('a', {href: '#/messages', class: 'button-link', onclick: hidePopup}, 'Open messages'),
            readBtn,
            h('button', {type: 'button', class: 'secondary', 'data-testid': 'popup-close',
                onclick: hidePopup}, 'Close')));
    pop.hidden = false;
}
