% rebase('layout.tpl', title=title)
<h1>{{title}}</h1>
<p><a href="/compose">{{t('compose.title')}} →</a></p>
% if not rows:
<p class="muted">{{t('common.none')}}</p>
% end
<div class="table"><table>
<thead><tr><th>#</th><th>{{t('common.name')}}</th><th>{{t('common.state')}}</th><th>{{t('camp.progress')}}</th><th>{{t('state.delivered')}}</th><th>{{t('state.failed')}}</th></tr></thead>
<tbody>
% for c in rows:
<tr>
  <td>{{c['id']}}</td>
  <td><a href="/campaigns/{{c['id']}}">{{c['name']}}</a><br><span class="small muted">{{fmt_time(c['created_at'])}}</span></td>
  <td><span class="badge {{c['state']}}">{{t('camp.' + c['state'])}}</span></td>
  <td><progress max="{{max(1, c['progress']['total'])}}" value="{{c['progress']['done']}}"></progress> {{c['progress']['done']}} / {{c['progress']['total']}}</td>
  <td>{{c['progress']['delivered']}}</td><td>{{c['progress']['failed']}}</td>
</tr>
% end
</tbody></table></div>
