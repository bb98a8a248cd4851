% rebase('layout.tpl', title=title)
<p><a href="/contacts">{{t('common.back')}}</a></p>
<h1>{{title}}</h1>
<p>{{c['phone']}} · <a href="/inbox/{{urlq(c['phone'])}}">{{t('nav.inbox')}}</a></p>
<form method="post" action="/contacts/{{c['id']}}" class="stack card">
  <input type="hidden" name="csrf" value="{{csrf}}">
  <label>{{t('common.name')}}<input name="name" value="{{c['name']}}" maxlength="200"></label>
  <label>{{t('contact.notes')}}<textarea name="notes" rows="3" maxlength="2000">{{c['notes']}}</textarea></label>
  <button type="submit">{{t('common.save')}}</button>
</form>
<h2>{{t('contact.consent_history')}}</h2>
<div class="table"><table>
<thead><tr><th>{{t('common.when')}}</th><th>{{t('common.kind')}}</th><th>{{t('audit.action')}}</th><th>{{t('contact.source')}}</th></tr></thead>
<tbody>
% for e in history:
<tr><td class="nowrap">{{fmt_time(e['at'])}}</td><td>{{e['class']}}</td><td>{{e['action']}}</td><td>{{e['source']}} {{e['text_version'] or ''}}</td></tr>
% end
</tbody></table></div>
