// Platform operator views: registration review (R-REG-2), deregistration
// review (R-REG-5), institutions by status, failed notifications (R-NOTE),
// ledger overview (R-CONS-2).

import {h, replace, table, fmtTime, fmtSize, field, emptyState} from '../h.js';
import {api} from '../api.js';
import {confirmDialog, reasonDialog} from '../dialog.js';
import {toast, toastError} from '../toast.js';
import {go} from '../router.js';
import {pageHeader, loading, errorBox, statusBadge, dl, pagedList, enc} from './common.js';

const STATUSES = ['pending', 'active', 'rejected', 'deregistering', 'deregistered'];
const PREVIEW_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

function adminName(inst) {
    const a = inst.admin || {};
    return a.username ? `${a.username}${a.real_name ? ` (${a.real_name})` : ''}` : '—';
}

function institutionTable(caption, items, base, testid) {
    return table(caption, [
        {title: 'Name', cell: (i) => h('a', {href: `#${base}/${enc(i.id)}`,
            'data-testid': 'institution-link'}, i.name || i.id)},
        {title: 'USCC', cell: (i) => h('code', null, i.uscc || '—')},
        {title: 'Administrator', cell: adminName},
        {title: 'Status', cell: (i) => statusBadge(i.status)},
        {title: 'Submitted', cell: (i) => fmtTime(i.created_at || i.submitted_at)},
    ], items, {'data-testid': testid});
}

export function registrationsView(main) {
    const list = pagedList('/admin/institutions', {status: 'pending'},
        (items) => institutionTable('Pending registrations', items, '/registrations', 'registrations-table'),
        {empty: 'No registration is waiting for review.', testid: 'registrations'});
    replace(main, pageHeader('Pending registrations',
        h('button', {type: 'button', class: 'secondary', onclick: () => list.reload()}, 'Refresh')),
    h('p', {class: 'lead'}, 'Review each registration: check the licence copy and the administrator\u2019s '
        + 'details, then approve (certificate issued, administrator activated) or reject with a reason.'),
    list);
}

export function deregistrationsView(main) {
    const list = pagedList('/admin/institutions', {status: 'deregistering'},
        (items) => institutionTable('Deregistration requests', items, '/institutions', 'deregistrations-table'),
        {empty: 'No deregistration request is open.', testid: 'deregistrations'});
    replace(main, pageHeader('Deregistration requests',
        h('button', {type: 'button', class: 'secondary', onclick: () => list.reload()}, 'Refresh')),
    h('p', {class: 'lead'}, 'Approving is refused while a signing of the institution is in progress. '
        + 'After approval no account of the institution can sign in; its contracts and evidence stay '
        + 'readable by the other parties.'),
    list);
}

export function institutionsView(main, params, query) {
    const status = STATUSES.includes(query.get('status')) ? query.get('status') : '';
    const select = h('select', {'data-testid': 'status-filter'},
        h('option', {value: ''}, 'All'),
        STATUSES.map((s) => h('option', {value: s, selected: s === status}, s)));
    select.addEventListener('change', () => {
        go(select.value ? `/institutions?status=${select.value}` : '/institutions');
    });
    const list = pagedList('/admin/institutions', {status},
        (items) => institutionTable('Institutions', items, '/institutions', 'institutions-table'),
        {empty: 'No institution with this status.', testid: 'institutions'});
    replace(main, pageHeader('Institutions'),
        h('div', {class: 'filters'}, field('Status', select).wrap),
        list);
}

/** Licence preview: raster images inline through a blob URL, anything else as a download. */
function licencePreview(lic, urls) {
    if (!lic) {
        return h('p', {class: 'muted'}, 'No licence file metadata.');
    }
    const meta = dl([
        ['File name', lic.filename || '—'],
        ['Type', lic.media_type || '—'],
        ['Size', fmtSize(lic.size)],
        ['SM3', lic.sm3 ? h('code', {class: 'hash'}, lic.sm3) : undefined],
    ]);
    if (!lic.content_b64) {
        return h('div', {class: 'licence'}, meta,
            h('p', {class: 'muted', 'data-testid': 'licence-none'}, 'The file itself is not included in this view.'));
    }
    let blob;
    try {
        const bin = atob(lic.content_b64);
        const bytes = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) {
            bytes[i] = bin.charCodeAt(i);
        }
        blob = new Blob([bytes], {type: lic.media_type || 'application/octet-stream'});
    } catch (e) {
        return h('div', {class: 'licence'}, meta, h('p', {class: 'field-error'}, 'The licence file could not be decoded.'));
    }
    const url = URL.createObjectURL(blob);
    urls.push(url);
    const download = h('a', {href: url, download: lic.filename || 'licence', class: 'button-link secondary',
        'data-testid': 'licence-download'}, `Download ${lic.filename || 'licence'}`);
    if (PREVIEW_TYPES.has(lic.media_type)) {
        return h('div', {class: 'licence'}, meta,
            h('figure', {class: 'licence-figure'},
                h('img', {src: url, alt: 'Business licence copy', 'data-testid': 'licence-image'}),
                h('figcaption', null, lic.filename || 'Licence')),
            download);
    }
    return h('div', {class: 'licence'}, meta, download);
}

async function act(button, fn, okText, after) {
    button.disabled = true;
    try {
        await fn();
        toast(okText, 'ok');
        after();
    } catch (e) {
        if (e.code === 'conflict' && /deregistration/.test(okText)) {
            toastError(e, 'Not possible now (a signing may still be in progress)');
        } else {
            toastError(e);
        }
    } finally {
        button.disabled = false;
    }
}

export function registrationDetailView(main, params) {
    const urls = [];
    const id = params.id;
    const path = `/admin/institutions/${enc(id)}`;
    const fromRegistrations = location.hash.startsWith('#/registrations');
    const back = fromRegistrations ? '/registrations' : '/institutions';

    async function load() {
        replace(main, pageHeader('Institution'), loading());
        let inst;
        try {
            inst = await api.get(path);
        } catch (e) {
            replace(main, pageHeader('Institution'), errorBox(e, load),
                h('p', null, h('a', {href: `#${back}`}, 'Back')));
            return;
        }
        const actions = [];
        if (inst.status === 'pending') {
            const approve = h('button', {type: 'button', class: 'primary', 'data-testid': 'approve'}, 'Approve');
            const reject = h('button', {type: 'button', class: 'danger', 'data-testid': 'reject'}, 'Reject…');
            approve.addEventListener('click', async () => {
                const yes = await confirmDialog('Approve registration',
                    `Approve "${inst.name}"? A certificate is issued and the administrator account `
                    + 'is activated.', 'Approve');
                if (yes) {
                    act(approve, () => api.post(`${path}/approve`), 'Registration approved.', () => go('/registrations'));
                }
            });
            reject.addEventListener('click', async () => {
                const reason = await reasonDialog('Reject registration',
                    'The reason is sent to the applicant and recorded in the audit log.', 'Reject');
                if (reason) {
                    act(reject, () => api.post(`${path}/reject`, {reason}), 'Registration rejected.', () => go('/registrations'));
                }
            });
            actions.push(approve, reject);
        } else if (inst.status === 'deregistering') {
            const approve = h('button', {type: 'button', class: 'danger', 'data-testid': 'dereg-approve'},
                'Approve deregistration');
            const reject = h('button', {type: 'button', class: 'secondary', 'data-testid': 'dereg-reject'},
                'Reject request…');
            approve.addEventListener('click', async () => {
                const first = await confirmDialog('Approve deregistration',
                    `Have you checked that no signing of "${inst.name}" is still in progress?`,
                    'Yes, checked', {danger: true});
                if (!first) {
                    return;
                }
                const second = await confirmDialog('Confirm deregistration',
                    `Deregister "${inst.name}" now? No account of it will be able to sign in again. `
                    + 'This cannot be undone.', 'Deregister', {danger: true});
                if (second) {
                    act(approve, () => api.post(`${path}/deregistration/approve`), 'Deregistration approved.',
                        () => go('/deregistrations'));
                }
            });
            reject.addEventListener('click', async () => {
                const reason = await reasonDialog('Reject deregistration request',
                    'The reason is sent to the institution administrator.', 'Reject request');
                if (reason) {
                    act(reject, () => api.post(`${path}/deregistration/reject`, {reason}),
                        'Deregistration request rejected.', () => go('/deregistrations'));
                }
            });
            actions.push(approve, reject);
        }
        const a = inst.admin || {};
        const d = inst.deregistration || {};
        replace(main,
            h('p', {class: 'breadcrumb'}, h('a', {href: `#${back}`}, fromRegistrations
                ? '← Pending registrations' : '← Institutions')),
            pageHeader(inst.name || 'Institution', ...actions),
            h('div', {class: 'detail-grid', 'data-testid': 'institution-detail'},
                h('section', {class: 'card', 'aria-labelledby': 'sec-inst'},
                    h('h2', {id: 'sec-inst'}, 'Institution'),
                    dl([
                        ['Name', h('span', {'data-testid': 'institution-name'}, inst.name || '—')],
                        ['USCC', h('code', null, inst.uscc || '—')],
                        ['Status', statusBadge(inst.status)],
                        ['Submitted', fmtTime(inst.created_at || inst.submitted_at)],
                        ['Registered from', inst.registration_ip || inst.client_ip || undefined],
                        ['Reason', inst.reject_reason || inst.reason || undefined],
                        ['Deregistration reason', d.reason || inst.deregistration_reason || undefined],
                        ['Deregistration requested', d.requested_at ? fmtTime(d.requested_at) : undefined],
                    ])),
                h('section', {class: 'card', 'aria-labelledby': 'sec-admin'},
                    h('h2', {id: 'sec-admin'}, 'Administrator'),
                    dl([
                        ['Username', a.username || '—'],
                        ['Real name', a.real_name || '—'],
                        ['ID', a.id_type || a.id_number ? `${a.id_type || ''} ${a.id_number || a.id_number_masked || ''}`.trim() : '—'],
                        ['Mobile', a.mobile || a.mobile_masked || '—'],
                        ['Email', a.email || a.email_masked || '—'],
                    ])),
                h('section', {class: 'card licence-card', 'aria-labelledby': 'sec-lic'},
                    h('h2', {id: 'sec-lic'}, 'Business licence'),
                    licencePreview(inst.licence, urls))));
    }
    load();
    return () => urls.forEach((u) => URL.revokeObjectURL(u));
}

export function outboxView(main, params, query) {
    const status = ['failed', 'pending'].includes(query.get('status')) ? query.get('status') : 'failed';
    const select = h('select', {'data-testid': 'outbox-filter'},
        h('option', {value: 'failed', selected: status === 'failed'}, 'Failed'),
        h('option', {value: 'pending', selected: status === 'pending'}, 'Waiting / retrying'));
    select.addEventListener('change', () => go(`/outbox?status=${select.value}`));
    const list = pagedList('/admin/outbox', {status}, (items) => table('Notification outbox', [
        {title: 'Channel', cell: (m) => m.channel || '—'},
        {title: 'Recipient', cell: (m) => m.to_masked || '—'},
        {title: 'Attempts', cell: (m) => String(m.attempts ?? '—')},
        {title: 'Last error', cell: (m) => m.last_error || '—'},
        {title: 'Status', cell: (m) => statusBadge(m.status)},
        {title: 'Next attempt', cell: (m) => fmtTime(m.next_attempt_at)},
    ], items, {'data-testid': 'outbox-table'}), {empty: 'No notification in this state.', testid: 'outbox'});
    replace(main, pageHeader('Notification outbox',
        h('button', {type: 'button', class: 'secondary', onclick: () => list.reload()}, 'Refresh')),
    h('p', {class: 'lead'}, 'Email and SMS deliveries that failed or are waiting for a retry. Recipients are masked.'),
    h('div', {class: 'filters'}, field('Show', select).wrap),
    list);
}

function selfCheck(v) {
    if (v === undefined || v === null) {
        return '—';
    }
    if (typeof v === 'boolean') {
        return statusBadge(v ? 'ok' : 'failed');
    }
    if (typeof v === 'string') {
        return statusBadge(v);
    }
    const ok = v.ok ?? v.passed;
    return h('span', null, statusBadge(ok === true ? 'ok' : ok === false ? 'failed' : v.status || 'unknown'),
        v.checked_at || v.at ? ` ${fmtTime(v.checked_at || v.at)}` : '',
        v.error ? ` ${v.error}` : '');
}

function checkpoint(v) {
    if (!v) {
        return '—';
    }
    if (typeof v === 'string') {
        return h('details', null, h('summary', null, 'Signed note'), h('pre', {class: 'note'}, v));
    }
    const parts = [];
    if (v.size !== undefined) {
        parts.push(`size ${v.size}`);
    }
    const t = v.timestamp || v.time || v.at;
    if (t) {
        parts.push(fmtTime(t));
    }
    return h('span', null, parts.join(', ') || '—',
        v.note ? h('details', null, h('summary', null, 'Signed note'), h('pre', {class: 'note'}, v.note)) : null);
}

export function ledgerView(main) {
    const body = h('div', null, loading());
    async function load() {
        replace(body, loading());
        try {
            const r = await api.get('/ledger/shards');
            const items = r && Array.isArray(r.items) ? r.items : [];
            replace(body, items.length ? table('Ledger shards', [
                {title: 'Shard', cell: (s) => h('code', null, String(s.shard))},
                {title: 'Size', cell: (s) => String(s.size ?? '—')},
                {title: 'Root (SM3)', cell: (s) => h('code', {class: 'hash'}, s.root || '—')},
                {title: 'Checkpoint', cell: (s) => checkpoint(s.checkpoint)},
                {title: 'Self-check', cell: (s) => selfCheck(s.self_check)},
            ], items.map((s) => ({...s, id: String(s.shard)})), {'data-testid': 'ledger-table'})
                : emptyState('No ledger shard is known to this site.'));
        } catch (e) {
            replace(body, errorBox(e, load));
        }
    }
    load();
    replace(main, pageHeader('Ledger',
        h('button', {type: 'button', class: 'secondary', onclick: load}, 'Refresh')),
    h('p', {class: 'lead'}, 'Shards known to this site, with their size, root hash, latest signed '
        + 'checkpoint and the result of the last self-check.'),
    body);
}
