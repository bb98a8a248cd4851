% rebase('layout.tpl', title=title)
<h1>{{title}}</h1>
% if review:
<h2>{{t('opt.review')}}</h2>
% for r in review:
<article class="card row-card">
  <div><strong>{{r['contact_name'] or r['phone']}}</strong> {{r['phone']}} · {{fmt_time(r['received_at'])}}</div>
  <p class="body">{{r['body'] or ''}}</p>
  <form method="post" action="/optouts/review/{{r['id']}}" class="inline">
    <input type="hidden" name="csrf" value="{{csrf}}">
    <button type="submit" name="decision" value="confirm">{{t('opt.confirm')}}</button>
    <button type="submit" name="decision" value="dismiss" class="secondary">{{t('opt.dismiss')}}</button>
  </form>
</article>
% end
% end
<h2>{{t('opt.add')}}</h2>
<form method="post" action="/optouts/add" class="filters">
  <input type="hidden" name="csrf" value="{{csrf}}">
  <label>{{t('common.phone')}}<input name="phone" inputmode="tel" required></label>
  <button type="submit">{{t('opt.confirm')}}</button>
</form>
<h2>{{t('opt.title')}}</h2>
<form method="get" action="/optouts" class="filters">
  <input name="q" value="{{q}}" aria-label="{{t('common.search')}}"><button type="submit">{{t('common.search')}}</button>
</form>
% if not rows:
<p class="muted">{{t('common.none')}}</p>
% else:
<div class="table"><table>
<thead><tr><th>{{t('common.phone')}}</th><th>{{t('common.name')}}</th><th>{{t('opt.since')}}</th></tr></thead>
<tbody>
% for r in rows:
<tr><td>{{r['phone']}}</td><td>{{r['name']}}</td><td>{{fmt_time(r['opted_out_at'])}}</td></tr>
% end
</tbody></table></div>
% end
