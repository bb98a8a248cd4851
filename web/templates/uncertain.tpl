% rebase('layout.tpl', title=title)
<h1>{{title}}</h1>
<p>{{t('unc.help')}}</p>
% if not rows:
<p class="muted">{{t('common.none')}}</p>
% end
% for r in rows:
<article class="card row-card">
  <div><strong>#{{r['id']}}</strong> · {{r['phone']}} · {{fmt_time(r['created_at'])}} · {{r['parts_total'] or 1}} {{t('common.parts')}}</div>
  <p class="body">{{r['body']}}</p>
  <form method="post" action="/uncertain/{{r['id']}}" class="inline">
    <input type="hidden" name="csrf" value="{{csrf}}">
    <button type="submit" name="action" value="resend">{{t('unc.resend')}}</button>
    <button type="submit" name="action" value="drop" class="secondary">{{t('unc.drop')}}</button>
  </form>
</article>
% end
