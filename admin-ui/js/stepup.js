// Step-up identity verification (R-AUTH-2): POST /session/verify with the
// password or a TOTP code; resolves a single-use verification_token.

import {h, field, uid} from './h.js';
import {api} from './api.js';
import {openDialog} from './dialog.js';

/** Ask the person at the keyboard to verify. Resolves the token or null. */
export function verify(reasonText) {
    return openDialog((close) => {
        const formId = uid('stepup');
        const pwd = h('input', {type: 'password', autocomplete: 'current-password',
            'data-testid': 'stepup-password', 'data-autofocus': true});
        const code = h('input', {type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code',
            pattern: '[0-9]{6,8}', maxlength: 8, 'data-testid': 'stepup-code'});
        const pwdField = field('Password', pwd);
        const codeField = field('Authenticator code (TOTP)', code,
            'The 6-digit code shown by your authenticator app.');
        codeField.wrap.hidden = true;
        const radio = (value, text, checked) => {
            const id = uid('m');
            return h('div', {class: 'check'},
                h('input', {type: 'radio', name: `${formId}-method`, id, value, checked,
                    onchange: () => {
                        pwdField.wrap.hidden = value !== 'password';
                        codeField.wrap.hidden = value !== 'totp';
                        (value === 'password' ? pwd : code).focus();
                    }}),
                h('label', {for: id}, text));
        };
        const err = h('p', {class: 'field-error', role: 'alert', hidden: true,
            'data-testid': 'stepup-error'});
        const submit = h('button', {type: 'submit', form: formId, class: 'primary',
            'data-testid': 'stepup-ok'}, 'Verify');
        const form = h('form', {id: formId, novalidate: true},
            h('fieldset', {class: 'inline-choices'}, h('legend', null, 'Method'),
                radio('password', 'Password', true), radio('totp', 'Authenticator code', false)),
            pwdField.wrap, codeField.wrap, err);
        form.addEventListener('submit', async (ev) => {
            ev.preventDefault();
            const method = form.querySelector(`input[name="${formId}-method"]:checked`).value;
            const body = method === 'password'
                ? {method, password: pwd.value}
                : {method, code: code.value.trim()};
            if ((method === 'password' && !pwd.value) || (method === 'totp' && !body.code)) {
                err.textContent = 'Please fill in the field.';
                err.hidden = false;
                return;
            }
            submit.disabled = true;
            try {
                const r = await api.post('/session/verify', body, {stepUp: false});
                close(r && r.verification_token ? r.verification_token : null);
            } catch (e) {
                err.textContent = e.code === 'invalid_credentials'
                    ? 'Verification failed. Check and try again.' : e.message;
                err.hidden = false;
                pwd.value = '';
                (method === 'password' ? pwd : code).focus();
            } finally {
                submit.disabled = false;
            }
        });
        return {
            title: 'Confirm it is you',
            testid: 'stepup-dialog',
            body: [h('p', null, reasonText
                || 'This action needs a fresh identity verification.'), form],
            actions: [
                h('button', {type: 'button', class: 'secondary', onclick: () => close(null)}, 'Cancel'),
                submit,
            ],
        };
    });
}
