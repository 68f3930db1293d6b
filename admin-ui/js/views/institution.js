// Institution administrator: own institution, certificate, deregistration
// request (R-REG-5).

import {h, replace} from '../h.js';
import {api} from '../api.js';
import {reasonDialog} from '../dialog.js';
import {toast, toastError} from '../toast.js';
import {pageHeader, loading, errorBox, statusBadge, dl} from './common.js';

export function institutionView(main) {
    async function load() {
        replace(main, pageHeader('Institution'), loading());
        let inst;
        try {
            inst = await api.get('/institution');
        } catch (e) {
            replace(main, pageHeader('Institution'), errorBox(e, load));
            return;
        }
        const dereg = h('button', {type: 'button', class: 'danger', 'data-testid': 'request-deregistration'},
            'Request deregistration…');
        dereg.addEventListener('click', async () => {
            const reason = await reasonDialog('Request deregistration',
                'An operator checks that no signing is in progress and approves. Afterwards no account '
                + 'of your institution can sign in; contracts stay readable by the other parties.',
                'Send request');
            if (!reason) {
                return;
            }
            dereg.disabled = true;
            try {
                await api.post('/institution/deregistration', {reason});
                toast('Deregistration requested. An operator will review it.', 'ok');
                load();
            } catch (e) {
                toastError(e);
                dereg.disabled = false;
            }
        });
        replace(main, pageHeader(inst.name || 'Institution'),
            h('div', {class: 'detail-grid'},
                h('section', {class: 'card'}, h('h2', null, 'Details'),
                    dl([
                        ['Name', inst.name || '—'],
                        ['USCC', h('code', null, inst.uscc || '—')],
                        ['Status', statusBadge(inst.status)],
                    ]),
                    inst.status === 'active' ? h('div', {class: 'form-actions'}, dereg) : null),
                h('section', {class: 'card'}, h('h2', null, 'Certificate'),
                    inst.certificate_pem
                        ? h('details', null, h('summary', null, 'Show certificate (PEM)'),
                            h('pre', {class: 'note'}, inst.certificate_pem))
                        : h('p', {class: 'muted'}, 'No certificate.'))));
    }
    load();
}
