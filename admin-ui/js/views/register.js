// Online registration of a new institution (R-REG-1): POST /institutions with
// the licence copy as base64. Nothing is usable until an operator approves.

import {h, replace, field, uid} from '../h.js';
import {api} from '../api.js';
import {passwordRules} from '../password.js';
import {pageHeader} from './common.js';

const USCC_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
const MAX_LICENCE = 10 * 1024 * 1024;

/** GB 32100-2015 check character. */
export function usccValid(s) {
    if (!/^[0-9A-HJ-NPQRTUWXY]{18}$/.test(s)) {
        return false;
    }
    let sum = 0;
    for (let i = 0; i < 17; i++) {
        sum += USCC_CHARS.indexOf(s[i]) * USCC_WEIGHTS[i];
    }
    const c = (31 - (sum % 31)) % 31;
    return USCC_CHARS[c] === s[17];
}

function readBase64(file) {
    return new Promise((resolve, reject) => {
        const r = new FileReader();
        r.onload = () => {
            const s = String(r.result);
            resolve(s.slice(s.indexOf(',') + 1));
        };
        r.onerror = () => reject(r.error);
        r.readAsDataURL(file);
    });
}

export function registerView(main) {
    const inp = (attrs) => h('input', {type: 'text', required: true, ...attrs});
    const name = inp({maxlength: 200, 'data-testid': 'reg-name'});
    const uscc = inp({maxlength: 18, autocapitalize: 'characters', spellcheck: 'false',
        'data-testid': 'reg-uscc'});
    const licence = h('input', {type: 'file', required: true,
        accept: 'image/png,image/jpeg,application/pdf', 'data-testid': 'reg-licence'});
    const username = inp({autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false',
        'data-testid': 'reg-username'});
    const password = h('input', {type: 'password', required: true, autocomplete: 'new-password',
        'data-testid': 'reg-password'});
    const realName = inp({autocomplete: 'name', 'data-testid': 'reg-real-name'});
    const idType = h('select', {required: true, 'data-testid': 'reg-id-type'},
        h('option', {value: 'resident_id'}, 'Resident identity card'),
        h('option', {value: 'passport'}, 'Passport'),
        h('option', {value: 'hk_macao_permit'}, 'Hong Kong / Macao permit'),
        h('option', {value: 'taiwan_permit'}, 'Taiwan permit'));
    const idNumber = inp({autocomplete: 'off', 'data-testid': 'reg-id-number'});
    const mobile = inp({type: 'tel', autocomplete: 'tel', 'data-testid': 'reg-mobile'});
    const email = inp({type: 'email', autocomplete: 'email', 'data-testid': 'reg-email'});
    const rulesId = uid('pwrules');
    const rules = passwordRules(password, username, rulesId);
    const err = h('div', {class: 'field-error', role: 'alert', hidden: true, 'data-testid': 'reg-error'});
    const submit = h('button', {type: 'submit', class: 'primary', 'data-testid': 'reg-submit'}, 'Submit registration');

    const form = h('form', {class: 'card form-grid', novalidate: true},
        h('fieldset', null, h('legend', null, 'Institution'),
            field('Institution name', name).wrap,
            field('Unified social credit code (USCC)', uscc, '18 characters, as printed on the licence.').wrap,
            field('Business licence copy', licence, 'PNG, JPEG or PDF, at most 10 MiB.').wrap),
        h('fieldset', null, h('legend', null, 'Administrator'),
            h('p', {class: 'hint'}, 'The administrator is bound to the institution and cannot be changed later.'),
            field('Username', username).wrap,
            field('Password', password, rules.el).wrap,
            field('Real name', realName).wrap,
            field('ID type', idType).wrap,
            field('ID number', idNumber).wrap,
            field('Mobile', mobile).wrap,
            field('Email', email).wrap),
        err,
        h('div', {class: 'form-actions'},
            h('a', {href: '#/login', class: 'button-link secondary'}, 'Back to sign in'), submit));

    form.addEventListener('input', (ev) => ev.target.removeAttribute('aria-invalid'));
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const problems = [];
        for (const [el, text] of [[name, 'institution name'], [username, 'username'],
            [realName, 'real name'], [idNumber, 'ID number'], [mobile, 'mobile'], [email, 'email']]) {
            el.removeAttribute('aria-invalid');
            if (!el.value.trim()) {
                problems.push([el, `Enter the ${text}.`]);
            }
        }
        uscc.value = uscc.value.trim().toUpperCase();
        if (!usccValid(uscc.value)) {
            problems.push([uscc, 'The USCC is not valid (18 characters with a correct check character).']);
        }
        const file = licence.files && licence.files[0];
        if (!file) {
            problems.push([licence, 'Attach the business licence copy.']);
        } else if (file.size > MAX_LICENCE) {
            problems.push([licence, 'The licence file is larger than 10 MiB.']);
        }
        if (!rules.ok()) {
            problems.push([password, 'The password does not meet the rules.']);
        }
        if (email.value && !email.checkValidity()) {
            problems.push([email, 'The email address is not valid.']);
        }
        if (problems.length) {
            problems.forEach(([el]) => el.setAttribute('aria-invalid', 'true'));
            replace(err, h('ul', null, problems.map(([, t]) => h('li', null, t))));
            err.hidden = false;
            problems[0][0].focus();
            return;
        }
        err.hidden = true;
        submit.disabled = true;
        try {
            const body = {
                name: name.value.trim(),
                uscc: uscc.value,
                licence: {filename: file.name, media_type: file.type || 'application/octet-stream',
                    content_b64: await readBase64(file)},
                admin: {username: username.value.trim(), password: password.value,
                    real_name: realName.value.trim(), id_type: idType.value,
                    id_number: idNumber.value.trim(), mobile: mobile.value.trim(),
                    email: email.value.trim()},
            };
            const r = await api.post('/institutions', body);
            replace(main, pageHeader('Registration submitted'),
                h('div', {class: 'card', 'data-testid': 'reg-done'},
                    h('p', null, 'Thank you. The registration of ', h('strong', null, body.name),
                        ' is ', h('strong', null, r && r.status ? r.status : 'pending'), '.'),
                    h('p', null, 'A platform operator will review it; the administrator is notified '
                        + 'by email and SMS of the decision. You can sign in once it is approved.'),
                    r && r.id ? h('p', {class: 'muted'}, 'Reference: ', h('code', null, r.id)) : null,
                    h('p', null, h('a', {href: '#/login'}, 'Back to sign in'))));
        } catch (e) {
            const known = {
                invalid_uscc: 'The USCC was refused as invalid.',
                weak_password: 'The password was refused as too weak.',
                conflict: 'An institution with this USCC, or this username, already exists.',
            };
            err.textContent = known[e.code] ? `${known[e.code]} ${e.message}` : e.message;
            err.hidden = false;
            err.focus?.();
        } finally {
            submit.disabled = false;
        }
    });
    replace(main, pageHeader('Register an institution'),
        h('p', {class: 'lead'}, 'Banks, insurers, funds, trusts and securities companies register here. '
            + 'An operator reviews every registration before it can be used.'),
        form);
}
