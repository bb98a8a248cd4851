% rebase('layout.tpl', title=title)
<p><a href="/contacts">{{t('common.back')}}</a></p>
<h1>{{title}}</h1>
<p>{{c['phone']}} · <a href="/inbox/{{urlq(c['phone'])}}">{{t('nav.inbox')}}</a></p>
<p>{{t('cab.consent')}}: <strong id="consent-state">{{t('contact.consent_opted_out') if c['opted_out_at'] else (t('contact.consent_granted') if c['consent_advertising'] else t('contact.consent_not_granted'))}}</strong>
  · {{t('common.service')}}: {{t('common.yes') if c['consent_service'] else t('common.no')}}</p>
<form method="post" action="/contacts/{{c['id']}}" class="stack card">
  <input type="hidden" name="csrf" value="{{csrf}}">
  <label>{{t('common.name')}}<input name="name" value="{{c['name']}}" maxlength="200"></label>
  <label>{{t('contact.notes')}}<textarea name="notes" rows="3" maxlength="2000">{{c['notes']}}</textarea></label>
  <button type="submit">{{t('common.save')}}</button>
</form>
<h2 id="consent">{{t('consent.record')}}</h2>
<form method="post" action="/contacts/{{c['id']}}/consent" class="stack card">
  <input type="hidden" name="csrf" value="{{csrf}}">
  <label>{{t('common.kind')}}
    <select name="kind">
      <option value="advertising" {{'selected' if cv['kind'] == 'advertising' else ''}}>{{t('common.advertising')}}</option>
      <option value="service" {{'selected' if cv['kind'] == 'service' else ''}}>{{t('common.service')}}</option>
    </select>
  </label>
  <label>{{t('audit.action')}}
    <select name="action">
      <option value="grant" {{'selected' if cv['action'] == 'grant' else ''}}>{{t('consent.grant')}}</option>
      <option value="withdraw" {{'selected' if cv['action'] == 'withdraw' else ''}}>{{t('consent.withdraw')}}</option>
    </select>
  </label>
  <label>{{t('contact.source')}}
    <select name="source">
      % for s in sources:
      <option value="{{s}}" {{'selected' if cv['source'] == s else ''}}>{{t(source_key(s))}}</option>
      % end
    </select>
  </label>
  <label>{{t('field.consent_text_version')}}<input name="text_version" value="{{cv['text_version']}}" maxlength="{{max_version}}"></label>
  <label>{{t('consent.evidence')}}<input name="evidence" value="{{cv['evidence']}}" maxlength="{{max_evidence}}" placeholder="{{t('consent.evidence_hint')}}"></label>
  % if c['opted_out_at']:
  <label class="check"><input type="checkbox" name="resubscribe" value="1" {{'checked' if cv['resubscribe'] else ''}}> {{t('consent.resubscribe')}}</label>
  % end
  <button type="submit">{{t('consent.submit')}}</button>
</form>
<h2>{{t('contact.consent_history')}}</h2>
<p><a href="/contacts/{{c['id']}}/consent.csv">{{t('contact.consent_csv')}}</a>
% if user.role == 'admin':
 · <a href="/contacts/{{c['id']}}/data.json">{{t('contact.personal_data')}}</a>
% end
</p>
<div class="table"><table>
<thead><tr><th>{{t('common.when')}}</th><th>{{t('common.kind')}}</th><th>{{t('audit.action')}}</th><th>{{t('contact.source')}}</th><th>{{t('consent.user')}}</th><th>{{t('consent.version')}}</th><th>{{t('consent.evidence')}}</th></tr></thead>
<tbody>
% for e in history:
<tr><td class="nowrap">{{fmt_time(e['at'])}}</td><td>{{t(kind_keys[e['class']]) if e['class'] in kind_keys else e['class']}}</td>
<td>{{t('consent.granted') if e['action'] == 'granted' else (t('consent.withdrawn') if e['action'] == 'withdrawn' else e['action'])}}</td>
<td>{{t(source_key(e['source'])) if source_key(e['source']) else e['source']}}</td>
<td>{{e['username'] or ('SMS' if e['inbox_id'] else '—')}}</td><td>{{e['text_version'] or '—'}}</td><td>{{e['evidence'] or ''}}</td></tr>
% end
</tbody></table></div>
% if user.role == 'admin' and not c.get('erased_at'):
<h2>{{t('contact.erase')}}</h2>
<form method="post" action="/contacts/{{c['id']}}/erase" class="card">
  <input type="hidden" name="csrf" value="{{csrf}}">
  <p>{{t('contact.erase_text')}}</p>
  <label class="check"><input type="checkbox" name="confirm" value="1"> {{t('contact.erase_confirm')}}</label>
  <button type="submit" class="danger">{{t('contact.erase')}}</button>
</form>
% end
