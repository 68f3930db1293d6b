// Building blocks shared by the views: headings, loading/error states,
// cursor-paginated lists, status badges, definition lists.

import {h, replace, emptyState} from '../h.js';
import {api} from '../api.js';

export function pageHeader(title, ...actions) {
    return h('div', {class: 'page-header'}, h('h1', null, title),
        actions.length ? h('div', {class: 'page-actions'}, actions) : null);
}

export function loading() {
    return h('p', {class: 'loading', role: 'status'}, 'Loading…');
}

export function errorBox(err, retry) {
    return h('div', {class: 'error-box', role: 'alert', 'data-testid': 'error'},
        h('p', null, err && err.message ? err.message : String(err)),
        retry ? h('button', {type: 'button', class: 'secondary', onclick: retry}, 'Try again') : null);
}

const STATUS_CLASS = {
    pending: 'warn', signing: 'warn', deregistering: 'warn', retrying: 'warn', queued: 'warn',
    active: 'ok', ok: 'ok', completed: 'ok', confirmed: 'ok', sent: 'ok', delivered: 'ok',
    rejected: 'bad', revoked: 'bad', expired: 'bad', failed: 'bad', deregistered: 'muted',
    disabled: 'bad', locked: 'bad',
};

export function statusBadge(status) {
    const s = status ? String(status) : 'unknown';
    return h('span', {class: `status status-${STATUS_CLASS[s] || 'muted'}`, 'data-status': s},
        s.replace(/_/g, ' '));
}

/** Definition list from [[term, value-node-or-string], ...]; skips undefined values. */
export function dl(pairs) {
    return h('dl', {class: 'facts'}, pairs.filter((p) => p[1] !== undefined).map(([k, v]) => [
        h('dt', null, k),
        h('dd', null, v === null || v === '' ? '—' : v),
    ]));
}

/**
 * A cursor-paginated list. render(items) -> Node. Appends pages on "Load more".
 * Returns the container; reload() refetches from the start.
 */
export function pagedList(path, query, render, opts = {}) {
    const box = h('div', {class: 'paged', 'data-testid': opts.testid || null});
    const more = h('button', {type: 'button', class: 'secondary load-more'}, 'Load more');
    const pages = h('div');
    let cursor = null;
    let all = [];
    async function load(reset) {
        if (reset) {
            cursor = null;
            all = [];
            replace(pages, loading());
        }
        more.disabled = true;
        try {
            const r = await api.get(path, {...query, limit: opts.limit || 50, cursor});
            all = all.concat(r && Array.isArray(r.items) ? r.items : []);
            cursor = r ? r.next_cursor || null : null;
            replace(pages, all.length ? render(all) : emptyState(opts.empty || 'Nothing here.'));
            more.hidden = !cursor;
        } catch (e) {
            replace(pages, errorBox(e, () => load(true)));
            more.hidden = true;
        } finally {
            more.disabled = false;
        }
    }
    more.addEventListener('click', () => load(false));
    more.hidden = true;
    box.append(pages, more);
    box.reload = () => load(true);
    load(true);
    return box;
}

export function enc(id) {
    return encodeURIComponent(id);
}
