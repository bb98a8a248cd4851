% rebase('layout.tpl', title=title)
% tone = {'new': 'inbox', 'confirmed': 'connecting', 'ready': 'sent', 'done': 'delivered', 'cancelled': 'failed'}
<p><a href="/orders">{{t('common.back')}}</a></p>
<h1>{{title}} <span class="badge {{tone.get(o['status'], '')}}" id="order-status">{{status_name(o['status'])}}</span></h1>
<div class="cards">
<section class="card">
  <p><strong>{{t('ord.customer')}}:</strong> {{o['customer_name'] or '—'}} ·
  % if o['contact_id']:
  <a href="/contacts/{{o['contact_id']}}">{{o['phone']}}</a>
  % else:
  {{o['phone']}}
  % end
  </p>
  <p><strong>{{t('ord.agent')}}:</strong> {{o['agent_name'] or '—'}} <span class="small muted">{{o['agent_phone'] or ''}}</span></p>
  <p><strong>{{t('common.when')}}:</strong> {{fmt_time(o['created_at'])}}</p>
  <p><strong>{{t('ord.form')}}:</strong> {{t('ord.form_full') if o['form'] == 'full' else t('ord.form_short')}}</p>
  % if o['form'] == 'full':
  <p><strong>{{t('ord.consultant')}}:</strong> {{o['consultant'] or ''}} / {{o['spo'] or ''}} ·
     {{t('ord.payment')}}: {{t('ord.payment_credit') if o['payment'] == 'credit' else t('ord.payment_immediate')}}{{(' · ' + t('ord.refuse_reserve')) if o['refuse_reserve'] else ''}}</p>
  % end
  % if o.get('note'):
  <p><strong>{{t('ord.note')}}:</strong> <span class="body">{{o['note']}}</span></p>
  % end
  % if o['coupon']:
  <p><strong>{{t('ord.coupon')}}:</strong> {{o['coupon']}}</p>
  % end
  % if o['sms_body'] is not None:
  <p><strong>{{t('ord.sms')}}:</strong> <span class="body">{{o['sms_body']}}</span></p>
  % end
</section>
<section class="card">
  <h2>{{t('ord.change')}}</h2>
  % if next_statuses:
  <form method="post" action="/orders/status" class="stack" id="status-form">
    <input type="hidden" name="csrf" value="{{csrf}}">
    <input type="hidden" name="order_id" value="{{o['id']}}">
    <label>{{t('ord.status')}}
    <select name="status">
    % for s in next_statuses:
      <option value="{{s}}">{{status_name(s)}}</option>
    % end
    </select></label>
    <p class="small muted">{{t('ord.change_help')}}</p>
    <button type="submit">{{t('common.save')}}</button>
  </form>
  % else:
  <p class="muted">{{t('ord.final')}}</p>
  % end
</section>
</div>
<h2>{{t('ord.lines')}}</h2>
<div class="table"><table>
<thead><tr><th>{{t('ord.code')}}</th><th>{{t('ord.product')}}</th><th>{{t('ord.qty')}}</th><th>{{t('ord.price')}}</th><th>{{t('ord.total')}}</th><th>{{t('ord.points')}}</th></tr></thead>
<tbody>
% for line in o['lines']:
<tr><td>{{line['code']}}</td><td>{{line['name']}}</td><td>{{line['qty']}}</td><td class="nowrap">{{money(line['price_kop'])}}</td>
<td class="nowrap">{{money(line['price_kop'] * line['qty'])}}</td><td>{{points(line['points'] * line['qty'])}}</td></tr>
% end
</tbody>
<tfoot><tr><th colspan="4">{{t('common.total')}}</th><th class="nowrap" id="order-total">{{money(o['total_kop'])}}</th><th>{{points(o['points'])}}</th></tr></tfoot>
</table></div>
<p>{{t('ord.bonus')}}: {{money(o['bonus_kop'])}}</p>
<h2>{{t('ord.history')}}</h2>
% if not history:
<p class="muted">{{t('common.none')}}</p>
% end
<ol class="thread">
% for m in history:
  <li class="msg {{m['direction']}}">
    <div class="bubble">
      <p class="body">{{m['body'] if m['body'] is not None else '…'}}</p>
      <span class="small muted">{{t('ord.from_customer') if m['direction'] == 'in' else t('ord.to_customer')}} · {{fmt_time(m['at'])}} · {{t('state.' + m['state'])}}</span>
    </div>
  </li>
% end
</ol>
