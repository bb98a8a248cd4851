% rebase('layout.tpl', title=title)
<h1>{{title}}</h1>
<form method="get" action="/outbox" class="filters">
  <label>{{t('common.state')}}
  <select name="state">
  % for f in filters:
    <option value="{{f}}" {{'selected' if f == state else ''}}>{{t('common.all') if f == 'all' else (t('state.queued') + '…' if f == 'open' else t('state.' + f))}}</option>
  % end
  </select></label>
  <label>{{t('common.phone')}}<input name="phone" value="{{phone}}" inputmode="tel"></label>
  <button type="submit">{{t('common.filter')}}</button>
</form>
% if not rows:
<p class="muted">{{t('common.none')}}</p>
% else:
<div class="table"><table>
<thead><tr><th>#</th><th>{{t('common.when')}}</th><th>{{t('common.phone')}}</th><th>{{t('common.text')}}</th><th>{{t('common.state')}}</th><th>{{t('out.attempts')}}</th></tr></thead>
<tbody>
% for r in rows:
<tr>
  <td>{{r['id']}}</td><td class="nowrap">{{fmt_time(r['created_at'])}}</td>
  <td class="nowrap"><a href="/inbox/{{urlq(r['phone'])}}">{{r['phone']}}</a><br><span class="small muted">{{r['contact_name'] or ''}}</span></td>
  <td class="body">{{r['body']}}</td>
  <td><span class="badge {{r['state']}}">{{t('state.' + r['state'])}}</span>
  % if r['last_error']:
  <br><span class="small muted">{{r['last_error']}}</span>
  % end
  </td>
  <td>{{r['attempts']}}</td>
</tr>
% end
</tbody></table></div>
% if len(rows) == page_size:
<p><a href="/outbox?state={{state}}&amp;phone={{urlq(phone)}}&amp;before={{rows[-1]['id']}}">{{t('common.older')}}</a></p>
% end
% end
