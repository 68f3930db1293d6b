// Institution administrator: accounts of the institution (R-REG-4, R-ACC-1..3):
// list, create, change tier/department/permissions, disable, unlock.

import {h, replace, table, fmtTime, field, uid, label} from '../h.js';
import {api} from '../api.js';
import {confirmDialog} from '../dialog.js';
import {toast, toastError} from '../toast.js';
import {go} from '../router.js';
import {session} from '../session.js';
import {passwordRules} from '../password.js';
import {pageHeader, loading, errorBox, statusBadge, dl, pagedList, enc} from './common.js';

export const TIERS = [
    ['top_admin', 'Top administrator', 'reads and downloads all contracts of the institution'],
    ['business_admin', 'Business administrator', 'reads and downloads the contracts of their own department'],
    ['business_operator', 'Business operator', 'sees their department\u2019s contracts with key fields masked, never the original document'],
];
export const PERMISSIONS = [
    ['initiate', 'Initiate', 'start signings'],
    ['view', 'View', 'read contracts'],
    ['confirm', 'Confirm', 'confirm or reject contracts'],
    ['download', 'Download', 'download contract documents'],
    ['evidence', 'Evidence', 'query evidence'],
];

function accountState(a) {
    if (a.disabled) {
        return statusBadge('disabled');
    }
    if (a.locked) {
        return statusBadge('locked');
    }
    return statusBadge('active');
}

export function accountsView(main) {
    const list = pagedList('/accounts', {}, (items) => table('Accounts', [
        {title: 'Username', cell: (a) => h('a', {href: `#/accounts/${enc(a.id)}`,
            'data-testid': 'account-link'}, a.username || a.id)},
        {title: 'Name', cell: (a) => a.real_name || '—'},
        {title: 'Department', cell: (a) => a.department || '—'},
        {title: 'Tier', cell: (a) => label(a.tier)},
        {title: 'Permissions', cell: (a) => (a.permissions || []).join(', ') || '—'},
        {title: 'State', cell: accountState},
        {title: 'Last sign-in', cell: (a) => fmtTime(a.last_login_at)},
    ], items, {'data-testid': 'accounts-table'}), {empty: 'No accounts yet.', testid: 'accounts'});
    replace(main, pageHeader('Accounts',
        h('a', {href: '#/accounts/new', class: 'button-link primary', 'data-testid': 'account-new'}, 'New account')),
    h('p', {class: 'lead'}, 'Accounts of your institution. Each account holds only the permissions you assign; '
        + 'its tier limits which contracts it can see.'),
    list);
}

function tierSelect(value) {
    const sel = h('select', {required: true, 'data-testid': 'account-tier'},
        TIERS.map(([v, t]) => h('option', {value: v, selected: v === value}, t)));
    return sel;
}

function tierHint(sel) {
    const p = h('p', {class: 'hint'});
    const upd = () => {
        const t = TIERS.find(([v]) => v === sel.value);
        p.textContent = t ? `${t[1]}: ${t[2]}.` : '';
    };
    sel.addEventListener('change', upd);
    upd();
    return p;
}

function permissionBoxes(selected) {
    const boxes = new Map();
    const fs = h('fieldset', {class: 'checks', 'data-testid': 'account-permissions'},
        h('legend', null, 'Permissions'),
        PERMISSIONS.map(([v, t, hint]) => {
            const id = uid('perm');
            const cb = h('input', {type: 'checkbox', id, value: v, checked: selected.includes(v),
                'data-testid': `perm-${v}`});
            boxes.set(v, cb);
            return h('div', {class: 'check'}, cb, h('label', {for: id}, t, h('span', {class: 'muted'}, ` — ${hint}`)));
        }));
    return {el: fs, value: () => [...boxes].filter(([, cb]) => cb.checked).map(([v]) => v)};
}

const ERRORS = {
    weak_password: 'The password was refused as too weak.',
    conflict: 'This username is already taken.',
};

export function accountNewView(main) {
    const username = h('input', {type: 'text', required: true, autocomplete: 'off', autocapitalize: 'none',
        spellcheck: 'false', maxlength: 64, 'data-testid': 'account-username'});
    const password = h('input', {type: 'password', required: true, autocomplete: 'new-password',
        'data-testid': 'account-password'});
    const realName = h('input', {type: 'text', required: true, 'data-testid': 'account-real-name'});
    const mobile = h('input', {type: 'tel', required: true, 'data-testid': 'account-mobile'});
    const email = h('input', {type: 'email', required: true, 'data-testid': 'account-email'});
    const department = h('input', {type: 'text', required: true, 'data-testid': 'account-department'});
    const tier = tierSelect('business_operator');
    const perms = permissionBoxes(['view']);
    const rules = passwordRules(password, username, uid('pwrules'));
    const err = h('div', {class: 'field-error', role: 'alert', hidden: true, tabindex: '-1',
        'data-testid': 'account-error'});
    const submit = h('button', {type: 'submit', class: 'primary', 'data-testid': 'account-submit'}, 'Create account');
    const form = h('form', {class: 'card form-grid', novalidate: true, 'data-testid': 'account-form'},
        h('fieldset', null, h('legend', null, 'Sign-in'),
            field('Username', username, 'Letters, digits, dot, dash or underscore.').wrap,
            field('Initial password', password, rules.el).wrap),
        h('fieldset', null, h('legend', null, 'Person'),
            field('Real name', realName).wrap,
            field('Mobile', mobile).wrap,
            field('Email', email).wrap,
            field('Department', department).wrap),
        h('fieldset', null, h('legend', null, 'Access'),
            field('Tier', tier, tierHint(tier)).wrap,
            perms.el),
        err,
        h('div', {class: 'form-actions'},
            h('a', {href: '#/accounts', class: 'button-link secondary'}, 'Cancel'), submit));
    form.addEventListener('input', (ev) => ev.target.removeAttribute('aria-invalid'));
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const problems = [];
        for (const [el, t] of [[username, 'username'], [realName, 'real name'], [mobile, 'mobile'],
            [email, 'email'], [department, 'department']]) {
            el.removeAttribute('aria-invalid');
            if (!el.value.trim()) {
                problems.push([el, `Enter the ${t}.`]);
            }
        }
        if (username.value && !/^[A-Za-z0-9._-]{3,64}$/.test(username.value.trim())) {
            problems.push([username, 'The username may use letters, digits, dot, dash and underscore (3 to 64).']);
        }
        if (email.value && !email.checkValidity()) {
            problems.push([email, 'The email address is not valid.']);
        }
        if (!rules.ok()) {
            problems.push([password, 'The password does not meet the rules listed under it.']);
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
            await api.post('/accounts', {
                username: username.value.trim(), password: password.value,
                real_name: realName.value.trim(), mobile: mobile.value.trim(), email: email.value.trim(),
                department: department.value.trim(), tier: tier.value, permissions: perms.value(),
            });
            toast(`Account ${username.value.trim()} created.`, 'ok');
            go('/accounts');
        } catch (e) {
            err.textContent = ERRORS[e.code] ? `${ERRORS[e.code]} ${e.message}` : e.message;
            err.hidden = false;
            err.focus();
        } finally {
            submit.disabled = false;
        }
    });
    replace(main, h('p', {class: 'breadcrumb'}, h('a', {href: '#/accounts'}, '← Accounts')),
        pageHeader('New account'), form);
}

export function accountEditView(main, params) {
    const path = `/accounts/${enc(params.id)}`;
    async function load() {
        replace(main, pageHeader('Account'), loading());
        let a;
        try {
            a = await api.get(path);
        } catch (e) {
            replace(main, pageHeader('Account'), errorBox(e, load));
            return;
        }
        const self = session.account && a.id === session.account.id;
        const department = h('input', {type: 'text', value: a.department || '', 'data-testid': 'account-department'});
        const tier = tierSelect(a.tier);
        const perms = permissionBoxes(a.permissions || []);
        const save = h('button', {type: 'submit', class: 'primary', 'data-testid': 'account-save'}, 'Save changes');
        const form = h('form', {class: 'card', novalidate: true, 'data-testid': 'account-edit-form'},
            h('h2', null, 'Access'),
            field('Department', department).wrap,
            field('Tier', tier, tierHint(tier)).wrap,
            perms.el,
            h('div', {class: 'form-actions'}, save));
        form.addEventListener('submit', async (ev) => {
            ev.preventDefault();
            save.disabled = true;
            try {
                await api.patch(path, {department: department.value.trim(), tier: tier.value,
                    permissions: perms.value()});
                toast('Changes saved.', 'ok');
                load();
            } catch (e) {
                toastError(e);
            } finally {
                save.disabled = false;
            }
        });
        const stateActions = [];
        const patchState = async (btn, body, text) => {
            btn.disabled = true;
            try {
                await api.patch(path, body);
                toast(text, 'ok');
                load();
            } catch (e) {
                toastError(e);
                btn.disabled = false;
            }
        };
        if (!self) {
            if (a.locked) {
                const unlock = h('button', {type: 'button', class: 'secondary', 'data-testid': 'account-unlock'},
                    a.disabled ? 'Unlock and enable' : 'Unlock');
                unlock.addEventListener('click', () => patchState(unlock, {disabled: false, locked: false},
                    'Account unlocked.'));
                stateActions.push(unlock);
            }
            if (a.disabled) {
                const enable = h('button', {type: 'button', class: 'secondary', 'data-testid': 'account-enable'}, 'Enable');
                enable.addEventListener('click', () => patchState(enable, {disabled: false}, 'Account enabled.'));
                stateActions.push(enable);
            } else {
                const disable = h('button', {type: 'button', class: 'danger', 'data-testid': 'account-disable'}, 'Disable…');
                disable.addEventListener('click', async () => {
                    if (await confirmDialog('Disable account',
                        `Disable ${a.username}? The account can no longer sign in until enabled again.`,
                        'Disable', {danger: true})) {
                        patchState(disable, {disabled: true}, 'Account disabled.');
                    }
                });
                stateActions.push(disable);
            }
        }
        replace(main, h('p', {class: 'breadcrumb'}, h('a', {href: '#/accounts'}, '← Accounts')),
            pageHeader(a.username || 'Account'),
            h('div', {class: 'detail-grid'},
                h('section', {class: 'card', 'aria-labelledby': 'sec-acc'},
                    h('h2', {id: 'sec-acc'}, 'Account'),
                    dl([
                        ['Username', a.username || '—'],
                        ['Real name', a.real_name || '—'],
                        ['Mobile', a.mobile || a.mobile_masked || '—'],
                        ['Email', a.email || a.email_masked || '—'],
                        ['State', accountState(a)],
                        ['Created', fmtTime(a.created_at)],
                        ['Last sign-in', fmtTime(a.last_login_at)],
                    ]),
                    stateActions.length ? h('div', {class: 'form-actions'}, stateActions)
                        : self ? h('p', {class: 'muted'}, 'This is your own account.') : null),
                self ? h('section', {class: 'card'}, h('h2', null, 'Access'),
                    h('p', null, 'The institution administrator holds every permission at the top tier.'))
                    : form));
    }
    load();
}
