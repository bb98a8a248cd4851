% rebase('layout.tpl', title=title)
<h1>{{title}}</h1>
<form method="get" action="/audit" class="filters">
  <select name="by" aria-label="{{t('common.filter')}}">
    <option value="">—</option>
    <option value="actor" {{'selected' if by == 'actor' else ''}}>{{t('audit.actor')}}</option>
    <option value="action" {{'selected' if by == 'action' else ''}}>{{t('audit.action')}}</option>
  </select>
  <input name="q" value="{{q}}" aria-label="{{t('common.search')}}">
  <button type="submit">{{t('common.filter')}}</button>
</form>
<div class="table"><table>
<thead><tr><th>{{t('common.when')}}</th><th>{{t('audit.actor')}}</th><th>{{t('audit.action')}}</th><th>{{t('audit.target')}}</th><th>{{t('audit.detail')}}</th></tr></thead>
<tbody>
% for r in rows:
<tr><td class="nowrap">{{fmt_time(r['at'])}}</td><td>{{r['actor']}}</td><td>{{r['action']}}</td><td>{{r['target'] or ''}}</td><td class="small">{{r['detail'] or ''}}</td></tr>
% end
</tbody></table></div>
% if len(rows) == page_size:
<p><a href="/audit?by={{by}}&amp;q={{urlq(q)}}&amp;before={{rows[-1]['id']}}">{{t('common.older')}}</a></p>
% end
