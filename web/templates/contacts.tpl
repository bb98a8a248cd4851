% rebase('layout.tpl', title=title)
<h1>{{title}}</h1>
<form method="get" action="/contacts" class="filters">
  <input name="q" value="{{q}}" aria-label="{{t('common.search')}}"><button type="submit">{{t('common.search')}}</button>
  % if user.is_staff:
  <a href="/contacts/export.csv">CSV</a>
  <a href="/contacts/import">{{t('imp.link')}}</a>
  % end
</form>
% if not rows:
<p class="muted">{{t('common.none')}}</p>
% else:
<div class="table"><table>
<thead><tr><th>{{t('common.name')}}</th><th>{{t('common.phone')}}</th><th>{{t('cab.consent')}}</th></tr></thead>
<tbody>
% for c in rows:
<tr class="{{'muted' if c['opted_out_at'] else ''}}"><td><a href="/contacts/{{c['id']}}">{{c['name'] or '—'}}</a></td><td>{{c['phone']}}</td>
<td>{{t('opt.since') if c['opted_out_at'] else (t('common.yes') if c['consent_advertising'] else t('common.no'))}}</td></tr>
% end
</tbody></table></div>
% if len(rows) == page_size:
<p><a href="/contacts?q={{urlq(q)}}&amp;offset={{offset + page_size}}">{{t('common.older')}}</a></p>
% end
% end
