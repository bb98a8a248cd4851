% tone = {'new': 'inbox', 'confirmed': 'connecting', 'ready': 'sent', 'done': 'delivered', 'cancelled': 'failed'}
<section class="card cabinet-orders">
<h2>{{t('cab.orders')}}</h2>
<p>{{t('cab.bonus')}}: <strong id="bonus-balance">{{box['money'](box['summary'].balance_kop)}}</strong> ·
   {{t('ord.points_month')}}: <strong id="points-month">{{box['points'](box['summary'].points_month)}}</strong> ·
   {{t('ord.open_count')}}: <strong>{{box['summary'].open_orders}}</strong></p>
% if box['rows']:
<div class="table"><table>
<thead><tr><th>{{t('ord.number')}}</th><th>{{t('common.when')}}</th><th>{{t('ord.customer')}}</th><th>{{t('ord.total')}}</th><th>{{t('ord.status')}}</th></tr></thead>
<tbody>
% for o in box['rows']:
<tr><td><a href="/orders/view?id={{o['id']}}">{{o['number']}}</a></td><td class="nowrap">{{fmt_time(o['created_at'])}}</td>
<td>{{o['customer_name'] or o['phone']}}</td><td class="nowrap">{{box['money'](o['total_kop'])}}</td>
<td><span class="badge {{tone.get(o['status'], '')}}">{{box['status_name'](o['status'])}}</span></td></tr>
% end
</tbody></table></div>
<p><a href="/orders">{{t('ord.all_mine')}}</a></p>
% else:
<p class="muted">{{t('common.none')}}</p>
% end
</section>
