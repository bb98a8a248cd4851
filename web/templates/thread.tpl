% rebase('layout.tpl', title=title)
<p><a href="/inbox">{{t('common.back')}}</a></p>
<h1>{{title}}</h1>
% if contact:
<p class="muted">{{contact['name']}}</p>
% end
<ol class="thread">
% for m in messages:
  <li class="msg {{m['direction']}}">
    <div class="bubble">
      <p class="body">{{m['body'] if m['body'] is not None else '…'}}</p>
      % if m['partial']:
      <p class="small">{{t('in.partial')}}</p>
      % end
      <span class="small muted">{{fmt_time(m['at'])}} · {{t('state.' + m['state'])}}</span>
    </div>
  </li>
% end
</ol>
<form method="post" action="/inbox/{{urlq(phone)}}/reply" class="reply" data-preview="1">
  <input type="hidden" name="csrf" value="{{csrf}}">
  <label>{{t('in.reply')}}<textarea name="text" rows="3" required maxlength="2000">{{text}}</textarea></label>
  <p class="small muted preview-line" aria-live="polite"></p>
  <button type="submit">{{t('common.send')}}</button>
</form>
<form method="post" action="/inbox/{{urlq(phone)}}/read" class="inline">
  <input type="hidden" name="csrf" value="{{csrf}}">
  <button type="submit" class="secondary">{{t('in.mark_read')}}</button>
</form>
