% rebase('layout.tpl', title=title)
<h1>{{title}}</h1>
<form method="get" action="/inbox" class="filters">
  <label class="check"><input type="checkbox" name="waiting" value="1" {{'checked' if waiting else ''}}> {{t('in.waiting_only')}}</label>
  <button type="submit">{{t('common.filter')}}</button>
</form>
% if not rows:
<p class="muted">{{t('common.none')}}</p>
% end
<ul class="conversations">
% for r in rows:
  <li class="{{'unread' if r['waiting'] else ''}}">
    <a href="/inbox/{{urlq(r['phone'])}}">
      <span class="who"><strong>{{r['contact_name'] or r['phone']}}</strong> <span class="small muted">{{r['phone']}}</span>
      % if r['waiting']:
      <span class="badge inbox">{{r['waiting']}} {{t('in.waiting')}}</span>
      % end
      </span>
      <span class="small muted">{{fmt_time(r['received_at'])}}</span>
      <span class="body preview">{{(r['body'] or '')[:160]}}</span>
    </a>
  </li>
% end
</ul>
% if len(rows) == page_size:
<p><a href="/inbox?before={{rows[-1]['id']}}{{'&waiting=1' if waiting else ''}}">{{t('common.older')}}</a></p>
% end
