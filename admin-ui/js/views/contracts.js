// Contracts visible to the caller (R-ACC-3 scoping is the server's): list by
// box and status, detail with participants, and the signing actions behind
// step-up verification (R-AUTH-2).

import {h, replace, table, fmtTime, field} from '../h.js';
import {api, API_BASE} from '../api.js';
import {reasonDialog, confirmDialog} from '../dialog.js';
import {verify} from '../stepup.js';
import {toast, toastError} from '../toast.js';
import {go} from '../router.js';
import {session} from '../session.js';
import {pageHeader, loading, errorBox, statusBadge, dl, pagedList, enc} from './common.js';

const STATUSES = ['signing', 'completed', 'rejected', 'revoked', 'expired'];
const BOXES = [['all', 'All'], ['received', 'Received'], ['initiated', 'Initiated']];

function isAdmin() {
    return session.account && session.account.role === 'institution_admin';
}

function perms() {
    const a = session.account || {};
    return isAdmin() ? ['initiate', 'view', 'confirm', 'download', 'evidence'] : a.permissions || [];
}

export function contractsView(main, params, query) {
    const defBox = isAdmin() ? 'all' : 'received';
    const box = BOXES.some(([b]) => b === query.get('box')) ? query.get('box') : defBox;
    const status = STATUSES.includes(query.get('status')) ? query.get('status') : '';
    const boxSel = h('select', {'data-testid': 'contracts-box'},
        BOXES.map(([v, t]) => h('option', {value: v, selected: v === box}, t)));
    const statusSel = h('select', {'data-testid': 'contracts-status'},
        h('option', {value: ''}, 'Any status'),
        STATUSES.map((s) => h('option', {value: s, selected: s === status}, s)));
    const update = () => {
        const q = new URLSearchParams({box: boxSel.value});
        if (statusSel.value) {
            q.set('status', statusSel.value);
        }
        go(`/contracts?${q}`);
    };
    boxSel.addEventListener('change', update);
    statusSel.addEventListener('change', update);
    const list = pagedList('/contracts', {box, status}, (items) => table('Contracts', [
        {title: 'Title', cell: (c) => h('a', {href: `#/contracts/${enc(c.id)}`,
            'data-testid': 'contract-link'}, c.title || c.id)},
        {title: 'Number', cell: (c) => c.number || '—'},
        {title: 'Version', cell: (c) => c.version || '—'},
        {title: 'Initiator', cell: (c) => (c.initiator && c.initiator.name) || c.initiator_name || '—'},
        {title: 'Status', cell: (c) => statusBadge(c.status)},
        {title: 'Created', cell: (c) => fmtTime(c.created_at)},
    ], items, {'data-testid': 'contracts-table'}), {empty: 'No contract matches.', testid: 'contracts'});
    const tier = session.account && session.account.tier;
    replace(main, pageHeader('Contracts'),
        tier === 'business_operator'
            ? h('p', {class: 'notice notice-info'}, 'Your tier shows your department\u2019s contracts with key '
                + 'fields masked; the original documents are not available to you.') : null,
        h('div', {class: 'filters'}, field('Box', boxSel).wrap, field('Status', statusSel).wrap),
        list);
}

export function contractDetailView(main, params) {
    const path = `/contracts/${enc(params.id)}`;
    async function signAction(btn, action, needReason) {
        let reason;
        if (needReason) {
            reason = await reasonDialog(`${action === 'reject' ? 'Reject' : 'Revoke'} contract`,
                'The signing ends at once and every party is notified.',
                action === 'reject' ? 'Reject' : 'Revoke');
            if (!reason) {
                return;
            }
        } else if (!await confirmDialog('Confirm contract',
            'Your institution\u2019s key will sign the document digest. Continue?', 'Continue')) {
            return;
        }
        const token = await verify(`${action === 'confirm' ? 'Confirming' : action === 'reject'
            ? 'Rejecting' : 'Revoking'} a contract needs a fresh identity verification.`);
        if (!token) {
            return;
        }
        btn.disabled = true;
        try {
            await api.post(`${path}/${action}`, reason ? {verification_token: token, reason}
                : {verification_token: token}, {verificationToken: token});
            toast(`Contract ${action === 'confirm' ? 'confirmed' : action === 'reject' ? 'rejected' : 'revoked'}.`, 'ok');
            load();
        } catch (e) {
            toastError(e);
            btn.disabled = false;
        }
    }
    async function load() {
        replace(main, pageHeader('Contract'), loading());
        let c;
        try {
            c = await api.get(path);
        } catch (e) {
            replace(main, pageHeader('Contract'), errorBox(e, load),
                h('p', null, h('a', {href: '#/contracts'}, 'Back to contracts')));
            return;
        }
        const p = perms();
        const me = session.account || {};
        const mine = (c.participants || []).find((x) => x.institution_id === me.institution_id);
        const initiatorMine = c.initiator && c.initiator.institution_id === me.institution_id;
        const actions = [];
        if (c.status === 'signing' && mine && mine.status === 'pending' && p.includes('confirm')) {
            const ok = h('button', {type: 'button', class: 'primary', 'data-testid': 'contract-confirm'}, 'Confirm…');
            ok.addEventListener('click', () => signAction(ok, 'confirm', false));
            const no = h('button', {type: 'button', class: 'danger', 'data-testid': 'contract-reject'}, 'Reject…');
            no.addEventListener('click', () => signAction(no, 'reject', true));
            actions.push(ok, no);
        }
        if (c.status === 'signing' && initiatorMine && p.includes('initiate')) {
            const rv = h('button', {type: 'button', class: 'danger', 'data-testid': 'contract-revoke'}, 'Revoke…');
            rv.addEventListener('click', () => signAction(rv, 'revoke', true));
            actions.push(rv);
        }
        const docUrl = new URL(`contracts/${enc(c.id)}/document`, API_BASE);
        const dlUrl = new URL(docUrl);
        dlUrl.searchParams.set('download', '1');
        const masked = me.tier === 'business_operator';
        const docLinks = masked ? h('p', {class: 'muted'}, 'The original document is not available at your tier.')
            : h('p', null,
                p.includes('view') ? h('a', {href: docUrl.href, target: '_blank', rel: 'noopener',
                    class: 'button-link secondary'}, 'Open document') : null, ' ',
                p.includes('download') ? h('a', {href: dlUrl.href, class: 'button-link secondary'},
                    'Download document') : null);
        replace(main, h('p', {class: 'breadcrumb'}, h('a', {href: '#/contracts'}, '← Contracts')),
            pageHeader(c.title || 'Contract'),
            h('div', {class: 'detail-grid', 'data-testid': 'contract-detail'},
                h('section', {class: 'card'}, h('h2', null, 'Contract'),
                    dl([
                        ['Title', c.title || '—'], ['Number', c.number || '—'], ['Version', c.version || '—'],
                        ['Status', statusBadge(c.status)],
                        ['Initiator', (c.initiator && c.initiator.name) || '—'],
                        ['Document SM3', c.document_sm3 ? h('code', {class: 'hash'}, c.document_sm3) : '—'],
                        ['Created', fmtTime(c.created_at)],
                        ['Expires', c.expires_at ? fmtTime(c.expires_at) : undefined],
                        ['Times read by you', c.read_count !== undefined ? String(c.read_count) : undefined],
                    ]), docLinks),
                h('section', {class: 'card'}, h('h2', null, 'Participants'),
                    table('Participants', [
                        {title: 'Institution', cell: (x) => x.name || x.institution_id || '—'},
                        {title: 'Status', cell: (x) => statusBadge(x.status)},
                        {title: 'At', cell: (x) => fmtTime(x.at)},
                    ], c.participants || []))),
            actions.length ? h('div', {class: 'form-actions'}, actions) : null);
    }
    load();
}
