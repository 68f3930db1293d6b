// Modal dialogs: confirm, reason prompt, step-up verification, and the
// generic open() they share.
//
// Native <dialog> with showModal() makes the rest of the page inert; on top we
// set role/aria-modal/aria-labelledby, focus the first field, trap Tab,
// close on Escape and give focus back to whatever had it before.

import {h, uid, field} from './h.js';

/**
 * Open a modal. build(close) returns {title, body: Node[], actions: Node[],
 * testid}; close(value) resolves the returned promise and removes the dialog.
 * Escape resolves with null (unless opts.noEscape).
 */
export function openDialog(build, opts = {}) {
    return new Promise((resolve) => {
        const previous = document.activeElement;
        const titleId = uid('dlg-title');
        let done = false;
        const dlg = h('dialog', {
            class: `dialog ${opts.className || ''}`.trim(),
            role: opts.alert ? 'alertdialog' : 'dialog',
            'aria-modal': 'true',
            'aria-labelledby': titleId,
        });
        const close = (value) => {
            if (done) {
                return;
            }
            done = true;
            if (dlg.open) {
                dlg.close();
            }
            dlg.remove();
            if (previous && previous.isConnected && typeof previous.focus === 'function') {
                previous.focus();
            }
            resolve(value);
        };
        const spec = build(close);
        if (spec.testid) {
            dlg.setAttribute('data-testid', spec.testid);
        }
        dlg.append(
            h('h2', {id: titleId, class: 'dialog-title'}, spec.title),
            h('div', {class: 'dialog-body'}, spec.body || []),
            h('div', {class: 'dialog-actions'}, spec.actions || []));
        dlg.addEventListener('cancel', (ev) => {
            ev.preventDefault();
            if (!opts.noEscape) {
                close(null);
            }
        });
        dlg.addEventListener('keydown', (ev) => {
            if (ev.key === 'Tab') {
                trapTab(dlg, ev);
            }
        });
        document.body.appendChild(dlg);
        dlg.showModal();
        const first = dlg.querySelector('[data-autofocus]')
            || dlg.querySelector('input:not([type=hidden]):not([disabled]), textarea, select')
            || dlg.querySelector('button:not([disabled])');
        if (first) {
            first.focus();
        }
        if (opts.onOpen) {
            opts.onOpen(dlg, close);
        }
    });
}

function trapTab(dlg, ev) {
    const items = [...dlg.querySelectorAll(
        'a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), '
        + 'select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])')]
        .filter((el) => el.offsetParent !== null || el === document.activeElement);
    if (items.length === 0) {
        return;
    }
    const first = items[0];
    const last = items[items.length - 1];
    if (ev.shiftKey && document.activeElement === first) {
        ev.preventDefault();
        last.focus();
    } else if (!ev.shiftKey && document.activeElement === last) {
        ev.preventDefault();
        first.focus();
    }
}

/** Yes/no question. Resolves true or false. */
export async function confirmDialog(title, text, okLabel = 'Confirm', opts = {}) {
    const r = await openDialog((close) => ({
        title,
        testid: opts.testid || 'confirm-dialog',
        body: [h('p', null, text)],
        actions: [
            h('button', {type: 'button', class: 'secondary', onclick: () => close(false)}, 'Cancel'),
            h('button', {type: 'button', class: opts.danger ? 'danger' : 'primary',
                'data-testid': 'confirm-ok', onclick: () => close(true)}, okLabel),
        ],
    }));
    return r === true;
}

/** Ask for a mandatory reason. Resolves the trimmed text, or null if cancelled. */
export function reasonDialog(title, text, okLabel = 'Submit') {
    return openDialog((close) => {
        const ta = h('textarea', {rows: 4, required: true, maxlength: 1000,
            'data-testid': 'reason-input'});
        const err = h('p', {class: 'field-error', role: 'alert', hidden: true});
        const f = field('Reason (required)', ta, text);
        const form = h('form', {novalidate: true, id: uid('reason-form')}, f.wrap, err);
        form.addEventListener('submit', (ev) => {
            ev.preventDefault();
            const v = ta.value.trim();
            if (!v) {
                err.textContent = 'Please give a reason.';
                err.hidden = false;
                ta.setAttribute('aria-invalid', 'true');
                ta.focus();
                return;
            }
            close(v);
        });
        return {
            title,
            testid: 'reason-dialog',
            body: [form],
            actions: [
                h('button', {type: 'button', class: 'secondary', onclick: () => close(null)}, 'Cancel'),
                h('button', {type: 'submit', form: form.id, class: 'danger',
                    'data-testid': 'reason-ok'}, okLabel),
            ],
        };
    });
}
