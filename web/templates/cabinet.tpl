% rebase('layout.tpl', title=title)
<h1>{{title}}</h1>
% if not linked:
<p class="error">{{t('cab.no_link')}}</p>
% else:
<p>{{agent['name'] if agent else ''}} · {{t('cab.cap', sent=sent, cap=cap)}}</p>
% if get('orders_box'):
% include('orders_cabinet.tpl', box=orders_box)
% end
<h2>{{t('cab.customers')}}</h2>
<form method="get" action="/cabinet" class="filters">
  <input name="q" value="{{q}}" aria-label="{{t('common.search')}}"><button type="submit">{{t('common.search')}}</button>
</form>
<form method="post" action="/cabinet/send" class="stack" data-preview="1">
  <input type="hidden" name="csrf" value="{{csrf}}">
  <div class="table"><table>
  <thead><tr><th></th><th>{{t('common.name')}}</th><th>{{t('common.phone')}}</th><th>{{t('cab.consent')}}</th></tr></thead>
  <tbody>
  % for c in customers:
  <tr class="{{'muted' if c['opted_out_at'] else ''}}">
    <td><input type="checkbox" name="contact" value="{{c['id']}}" aria-label="{{c['name']}}" {{'disabled' if c['opted_out_at'] else ''}}></td>
    <td>{{c['name']}}</td><td><a href="/inbox/{{urlq(c['phone'])}}">{{c['phone']}}</a></td>
    <td>{{t('opt.since') if c['opted_out_at'] else (t('common.yes') if c['consent_advertising'] else t('common.no'))}}</td>
  </tr>
  % end
  </tbody></table></div>
  <label>{{t('cab.send')}}<textarea name="text" rows="4" required maxlength="2000">{{get('text', '')}}</textarea></label>
  <p class="preview-line small" aria-live="polite"></p>
  <p class="small">{{t('cab.consent_note')}}</p>
  <button type="submit">{{t('common.send')}}</button>
</form>
% end
