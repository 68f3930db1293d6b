// Institution administrator: audit log (R-AUD-1, R-AUD-2) with filters
// from/to/account/action. Records arrive masked from the server.

import {h, replace, table, fmtTime, field} from '../h.js';
import {go} from '../router.js';
import {pageHeader, pagedList} from './common.js';

const ACTIONS = ['login', 'login_failed', 'logout', 'verify', 'account.create', 'account.update',
    'account.disable', 'contract.initiate', 'contract.read', 'contract.confirm', 'contract.reject',
    'contract.revoke', 'contract.download', 'evidence.query', 'institution.deregistration'];

/** 'YYYY-MM-DDTHH:MM' in local time <-> RFC 3339 UTC. */
function toRfc3339(local) {
    if (!local) {
        return '';
    }
    const d = new Date(local);
    return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

function toLocalInput(rfc) {
    const d = new Date(rfc);
    if (!rfc || Number.isNaN(d.getTime())) {
        return '';
    }
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function who(r) {
    if (r.account && typeof r.account === 'object') {
        return r.account.username || r.account.id || '—';
    }
    return r.account_username || r.username || r.account || r.account_id || '—';
}

function detail(r) {
    const d = r.details ?? r.detail;
    if (d === undefined || d === null || d === '') {
        return r.target || r.object || '—';
    }
    return typeof d === 'string' ? d : JSON.stringify(d);
}

export function auditView(main, params, query) {
    const from = h('input', {type: 'datetime-local', value: toLocalInput(query.get('from')),
        'data-testid': 'audit-from'});
    const to = h('input', {type: 'datetime-local', value: toLocalInput(query.get('to')),
        'data-testid': 'audit-to'});
    const account = h('input', {type: 'text', value: query.get('account') || '', autocomplete: 'off',
        'data-testid': 'audit-account'});
    const listId = 'audit-actions';
    const action = h('input', {type: 'text', value: query.get('action') || '', list: listId,
        autocomplete: 'off', 'data-testid': 'audit-action'});
    const form = h('form', {class: 'filters', role: 'search', 'aria-label': 'Filter the audit log'},
        field('From', from).wrap, field('To', to).wrap,
        field('Account', account).wrap, field('Action', action).wrap,
        h('datalist', {id: listId}, ACTIONS.map((a) => h('option', {value: a}))),
        h('div', {class: 'filter-actions'},
            h('button', {type: 'submit', class: 'primary', 'data-testid': 'audit-apply'}, 'Apply'),
            h('button', {type: 'button', class: 'secondary', onclick: () => go('/audit')}, 'Clear')));
    form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        const q = new URLSearchParams();
        const f = toRfc3339(from.value);
        const t = toRfc3339(to.value);
        if (f) {
            q.set('from', f);
        }
        if (t) {
            q.set('to', t);
        }
        if (account.value.trim()) {
            q.set('account', account.value.trim());
        }
        if (action.value.trim()) {
            q.set('action', action.value.trim());
        }
        const s = q.toString();
        go(s ? `/audit?${s}` : '/audit');
    });
    const filters = {
        from: query.get('from') || '', to: query.get('to') || '',
        account: query.get('account') || '', action: query.get('action') || '',
    };
    const list = pagedList('/audit', filters, (items) => table('Audit records', [
        {title: 'Time', cell: (r) => fmtTime(r.at || r.time || r.created_at)},
        {title: 'Account', cell: who},
        {title: 'Action', cell: (r) => h('code', null, r.action || '—')},
        {title: 'Result', cell: (r) => (r.result === undefined ? '—' : String(r.result))},
        {title: 'Client', cell: (r) => r.ip_masked || r.ip || r.client_ip || '—'},
        {title: 'Details', cell: detail},
    ], items, {'data-testid': 'audit-table'}), {empty: 'No audit record matches.', testid: 'audit', limit: 100});
    replace(main, pageHeader('Audit log'),
        h('p', {class: 'lead'}, 'Every operation after sign-in: who, what and when. Personal data is masked.'),
        form, list);
}
