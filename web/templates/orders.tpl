% rebase('layout.tpl', title=title)
% tone = {'new': 'inbox', 'confirmed': 'connecting', 'ready': 'sent', 'done': 'delivered', 'cancelled': 'failed'}
<h1>{{title}}</h1>
<form method="get" action="/orders" class="filters">
  <label>{{t('ord.status')}}
  <select name="status">
  % for f in filters:
    <option value="{{f}}" {{'selected' if f == status else ''}}>{{t('common.all') if f == 'all' else status_name(f)}}</option>
  % end
  </select></label>
  % if user.is_staff:
  <label>{{t('ord.agent')}}
  <select name="agent">
    <option value="">{{t('ord.all_agents')}}</option>
    % for a in agents:
    <option value="{{a['id']}}" {{'selected' if a['id'] == agent else ''}}>{{a['name'] or a['phone']}}</option>
    % end
  </select></label>
  % end
  <label>{{t('common.phone')}}<input name="phone" value="{{phone}}" inputmode="tel"></label>
  <button type="submit">{{t('common.filter')}}</button>
</form>
% if not rows:
<p class="muted">{{t('common.none')}}</p>
% else:
<div class="table"><table class="orders">
<thead><tr><th>{{t('ord.number')}}</th><th>{{t('common.when')}}</th><th>{{t('ord.customer')}}</th><th>{{t('ord.agent')}}</th><th>{{t('ord.items')}}</th><th>{{t('ord.total')}}</th><th>{{t('ord.status')}}</th></tr></thead>
<tbody>
% for o in rows:
<tr>
  <td><a href="/orders/view?id={{o['id']}}">{{o['number']}}</a></td>
  <td class="nowrap">{{fmt_time(o['created_at'])}}</td>
  <td>{{o['customer_name'] or ''}}<br><span class="small muted nowrap">{{o['phone']}}</span></td>
  <td>{{o['agent_name'] or '—'}}</td>
  <td>{{o['line_count']}}</td>
  <td class="nowrap">{{money(o['total_kop'])}}</td>
  <td><span class="badge {{tone.get(o['status'], '')}}">{{status_name(o['status'])}}</span></td>
</tr>
% end
</tbody></table></div>
% if len(rows) == page_size:
<p><a href="/orders?status={{status}}&amp;agent={{agent or ''}}&amp;phone={{urlq(phone)}}&amp;before={{rows[-1]['id']}}">{{t('common.older')}}</a></p>
% end
% end
