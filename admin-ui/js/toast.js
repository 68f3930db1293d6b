// Toasts: short status and error notes announced through aria-live regions.

import {h} from './h.js';

/** kind: 'info' | 'ok' | 'error'. Errors go to the assertive region. */
export function toast(text, kind = 'info', ms = 6000) {
    const region = document.getElementById(kind === 'error' ? 'toasts-alert' : 'toasts');
    if (!region) {
        return;
    }
    const close = h('button', {type: 'button', class: 'toast-close', 'aria-label': 'Dismiss'}, '×');
    const t = h('div', {class: `toast toast-${kind}`, 'data-testid': `toast-${kind}`},
        h('span', null, text), close);
    close.addEventListener('click', () => t.remove());
    region.appendChild(t);
    if (ms > 0) {
        setTimeout(() => t.remove(), ms);
    }
}

/** Toast an ApiError (or any error) with its server message. */
export function toastError(err, prefix) {
    const msg = err && err.message ? err.message : String(err);
    toast(prefix ? `${prefix}: ${msg}` : msg, 'error', 10000);
}

/** Remove every toast (on sign-in and sign-out: they belong to the previous user). */
export function clearToasts() {
    for (const id of ['toasts', 'toasts-alert']) {
        const r = document.getElementById(id);
        if (r) {
            r.replaceChildren();
        }
    }
}
