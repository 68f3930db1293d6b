// Sign-in page (POST /session). Also shows why the user landed here
// (signed out, session expired).

import {h, replace, field} from '../h.js';
import {login} from '../session.js';

let notice = null;      // {text, kind}

export function setLoginNotice(text, kind = 'info') {
    notice = text ? {text, kind} : null;
}

const MESSAGES = {
    invalid_credentials: 'Wrong username or password.',
    institution_inactive: 'Your institution is not active (registration pending or rejected, '
        + 'or the institution is deregistered).',
};

export function loginView(main) {
    const user = h('input', {type: 'text', name: 'username', autocomplete: 'username',
        required: true, autocapitalize: 'none', spellcheck: 'false', 'data-testid': 'login-username'});
    const pass = h('input', {type: 'password', name: 'password', autocomplete: 'current-password',
        required: true, 'data-testid': 'login-password'});
    const err = h('p', {class: 'field-error', role: 'alert', 'data-testid': 'login-error', hidden: true});
    const submit = h('button', {type: 'submit', class: 'primary', 'data-testid': 'login-submit'}, 'Sign in');
    const form = h('form', {class: 'card login-card', novalidate: true, 'aria-labelledby': 'login-title'},
        h('h1', {id: 'login-title'}, 'Sign in'),
        notice ? h('p', {class: `notice notice-${notice.kind}`, role: 'status',
            'data-testid': 'login-notice'}, notice.text) : null,
        field('Username', user).wrap,
        field('Password', pass).wrap,
        err,
        h('div', {class: 'form-actions'}, submit),
        h('p', {class: 'muted'}, 'New institution? ', h('a', {href: '#/register'}, 'Register online'), '.'));
    notice = null;
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        err.hidden = true;
        if (!user.value.trim() || !pass.value) {
            err.textContent = 'Enter your username and password.';
            err.hidden = false;
            (user.value.trim() ? pass : user).focus();
            return;
        }
        submit.disabled = true;
        submit.textContent = 'Signing in…';
        try {
            await login(user.value.trim(), pass.value);
            window.dispatchEvent(new Event('esign:login'));
        } catch (e) {
            err.textContent = MESSAGES[e.code] || e.message;
            err.hidden = false;
            pass.value = '';
            pass.focus();
        } finally {
            submit.disabled = false;
            submit.textContent = 'Sign in';
        }
    });
    replace(main, h('div', {class: 'center'}, form));
    user.focus();
}
