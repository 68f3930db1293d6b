// Entry point: wires session, router, navigation and the views.

import {h, replace} from './h.js';
import {setStepUpHandler, hasCsrfToken} from './api.js';
import {verify} from './stepup.js';
import * as router from './router.js';
import {session, role, refresh, logout, onExpired, start as startIdle} from './session.js';
import {startPolling, stopPolling} from './messages.js';
import {toastError, clearToasts} from './toast.js';
import {loginView, setLoginNotice} from './views/login.js';
import {registerView} from './views/register.js';
import {registrationsView, registrationDetailView, deregistrationsView,
    institutionsView, outboxView, ledgerView} from './views/operator.js';
import {accountsView, accountNewView, accountEditView} from './views/accounts.js';
import {auditView} from './views/audit.js';
import {contractsView, contractDetailView} from './views/contracts.js';
import {messagesView} from './views/messages.js';
import {institutionView} from './views/institution.js';

const OP = ['operator'];
const ADMIN = ['institution_admin'];
const INST = ['institution_admin', 'account'];
const ALL = ['operator', 'institution_admin', 'account'];

const NAV = {
    operator: [
        ['/registrations', 'Registrations', 'registrations'],
        ['/deregistrations', 'Deregistrations', 'deregistrations'],
        ['/institutions', 'Institutions', 'institutions'],
        ['/outbox', 'Notification outbox', 'outbox'],
        ['/ledger', 'Ledger', 'ledger'],
        ['/messages', 'Messages', 'messages'],
    ],
    institution_admin: [
        ['/contracts', 'Contracts', 'contracts'],
        ['/accounts', 'Accounts', 'accounts'],
        ['/audit', 'Audit log', 'audit'],
        ['/institution', 'Institution', 'institution'],
        ['/messages', 'Messages', 'messages'],
    ],
    account: [
        ['/contracts', 'Contracts', 'contracts'],
        ['/messages', 'Messages', 'messages'],
    ],
};

function home() {
    const r = role();
    return r && NAV[r] ? NAV[r][0][0] : '/login';
}

const forbidden = (main) => {
    replace(main, h('h1', null, 'Not available'),
        h('p', {'data-testid': 'forbidden'}, 'Your account does not have access to this page.'),
        h('p', null, h('a', {href: `#${home()}`}, 'Go to the start page')));
};

// A role that lacks a view gets an explanation, not the page (the server
// refuses the data anyway; this only keeps the page honest).
function add(pattern, title, roles, view) {
    router.route(pattern, {
        title, roles, public: roles === null,
        view: (main, params, query) => (roles === null || roles.includes(role())
            ? view(main, params, query) : forbidden(main)),
    });
}

add('/login', 'Sign in', null, loginView);
add('/register', 'Register an institution', null, registerView);
add('/registrations', 'Pending registrations', OP, registrationsView);
add('/registrations/:id', 'Registration', OP, registrationDetailView);
add('/deregistrations', 'Deregistration requests', OP, deregistrationsView);
add('/institutions', 'Institutions', OP, institutionsView);
add('/institutions/:id', 'Institution', OP, registrationDetailView);
add('/outbox', 'Notification outbox', OP, outboxView);
add('/ledger', 'Ledger', OP, ledgerView);
add('/accounts', 'Accounts', ADMIN, accountsView);
add('/accounts/new', 'New account', ADMIN, accountNewView);
add('/accounts/:id', 'Account', ADMIN, accountEditView);
add('/audit', 'Audit log', ADMIN, auditView);
add('/institution', 'Institution', ADMIN, institutionView);
add('/contracts', 'Contracts', INST, contractsView);
add('/contracts/:id', 'Contract', INST, contractDetailView);
add('/messages', 'Messages', ALL, messagesView);

router.setNotFound((main, path) => {
    replace(main, h('h1', null, 'Page not found'),
        h('p', null, 'There is no page at ', h('code', null, path), '.'),
        h('p', null, h('a', {href: `#${home()}`}, 'Go to the start page')));
});

router.setGuard((r, path) => {
    if (path === '/' || path === '') {
        return home();
    }
    if (!r || r.public) {
        if (r && r.pattern === '/login' && session.account) {
            return home();
        }
        return null;
    }
    if (!session.account) {
        setLoginNotice(null);
        return '/login';
    }
    return null;
});

function renderNav(activePath) {
    const list = document.getElementById('nav-list');
    const nav = document.getElementById('nav');
    const items = session.account ? NAV[role()] || [] : [];
    nav.hidden = items.length === 0;
    document.getElementById('nav-toggle').hidden = items.length === 0;
    replace(list, items.map(([path, text, key]) => {
        const active = activePath === path || activePath.startsWith(`${path}/`);
        return h('li', null, h('a', {
            href: `#${path}`, 'data-testid': `nav-${key}`,
            'aria-current': active ? 'page' : null,
            class: active ? 'active' : null,
        }, text));
    }));
}

function renderUser() {
    const box = document.getElementById('userbox');
    const a = session.account;
    box.hidden = !a;
    const name = document.getElementById('user-name');
    name.textContent = a ? `${a.username} · ${roleLabel(a)}` : '';
}

function roleLabel(a) {
    if (a.role === 'operator') {
        return 'platform operator';
    }
    if (a.role === 'institution_admin') {
        return 'institution administrator';
    }
    return (a.tier || 'account').replace(/_/g, ' ');
}

function closeNavOnSmall() {
    const t = document.getElementById('nav-toggle');
    t.setAttribute('aria-expanded', 'false');
    document.getElementById('layout').classList.remove('nav-open');
}

document.addEventListener('esign:route', (ev) => {
    renderNav(ev.detail.path);
    renderUser();
    closeNavOnSmall();
});

function afterLogin() {
    clearToasts();
    renderUser();
    startPolling();
    router.go(home());
}

async function doLogout(message) {
    stopPolling();
    clearToasts();
    try {
        await logout();
    } catch (e) {
        // the session is gone locally either way
    }
    setLoginNotice(message || 'You have signed out.');
    router.go('/login');
}

onExpired((message) => {
    stopPolling();
    clearToasts();
    setLoginNotice(message, 'warning');
    router.go('/login');
});

function init() {
    setStepUpHandler(() => verify());
    document.getElementById('logout').addEventListener('click', () => doLogout());
    document.addEventListener('esign:logout', () => doLogout());
    document.getElementById('msg-button').addEventListener('click', () => router.go('/messages'));
    document.querySelector('[data-skip-link]').addEventListener('click', (ev) => {
        ev.preventDefault();
        const main = document.getElementById('main');
        main.focus();
    });
    const toggle = document.getElementById('nav-toggle');
    toggle.addEventListener('click', () => {
        const open = toggle.getAttribute('aria-expanded') !== 'true';
        toggle.setAttribute('aria-expanded', String(open));
        document.getElementById('layout').classList.toggle('nav-open', open);
        if (open) {
            const first = document.querySelector('#nav-list a');
            if (first) {
                first.focus();
            }
        }
    });
    document.addEventListener('keydown', (ev) => {
        if (ev.key === 'Escape' && toggle.getAttribute('aria-expanded') === 'true') {
            closeNavOnSmall();
            toggle.focus();
        }
    });
    window.addEventListener('esign:login', afterLogin);
}

async function boot() {
    init();
    try {
        await refresh();
        if (!hasCsrfToken()) {
            // a new tab: the cookie is shared but the CSRF token is not
            session.account = null;
            setLoginNotice('Please sign in again in this tab.');
        } else {
            startIdle();
            startPolling();
        }
    } catch (e) {
        if (e.status !== 401 && e.status !== 403) {
            toastError(e, 'Could not check the session');
        }
    }
    await router.start();
}

boot();
