% rebase('layout.tpl', title=title)
<p><a href="/campaigns">{{t('common.back')}}</a></p>
<h1>{{c['name']}} <span class="badge {{c['state']}}">{{t('camp.' + c['state'])}}</span></h1>
<section class="card">
  <p class="body">{{c['body'] or ''}}</p>
  <p class="small muted">{{t('common.kind')}}: {{t('common.' + c['class'])}}</p>
  <progress max="{{max(1, progress['total'])}}" value="{{progress['done']}}"></progress>
  <p>{{progress['done']}} / {{progress['total']}}</p>
</section>
<section class="stats">
  <div class="stat"><span class="label">{{t('camp.targeted')}}</span><span class="value">{{stats.targeted}}</span></div>
  <div class="stat"><span class="label">{{t('state.queued')}}</span><span class="value">{{stats.queued}}</span></div>
  <div class="stat"><span class="label">{{t('state.sent')}}</span><span class="value">{{stats.sent}}</span></div>
  <div class="stat"><span class="label">{{t('state.delivered')}}</span><span class="value" id="delivered">{{stats.delivered}}</span></div>
  <div class="stat"><span class="label">{{t('state.failed')}}</span><span class="value">{{stats.failed}}</span></div>
  <div class="stat"><span class="label">{{t('state.cancelled')}}</span><span class="value">{{stats.cancelled}}</span></div>
  <div class="stat"><span class="label">{{t('camp.replied')}}</span><span class="value">{{stats.replied}}</span></div>
  <div class="stat"><span class="label">{{t('camp.opted_out')}}</span><span class="value">{{stats.opted_out_after}}</span></div>
</section>
% if stats.skipped:
<p>{{t('camp.skipped')}}: {{', '.join(f'{k}: {v}' for k, v in stats.skipped.items())}}</p>
% end
% if stats.poll:
<h2>{{t('camp.poll')}}</h2>
<ul>
% for option, n in stats.poll.items():
<li>{{option}}: {{n}}</li>
% end
</ul>
% end
% if preview:
<section class="card">
<h2>{{t('compose.preview')}}</h2>
<p>{{t('compose.recipients')}}: {{preview.recipients}} · {{t('compose.total_parts')}}: {{preview.total_parts}}</p>
% for phone, text in preview.samples[:1]:
<p class="small muted">{{phone}}</p><p class="body">{{text}}</p>
% end
% for w in preview.warnings:
<p class="error">{{w}}</p>
% end
</section>
% end
<section class="card">
% if c['state'] == 'draft':
<form method="post" action="/campaigns/{{c['id']}}/start" class="stack">
  <input type="hidden" name="csrf" value="{{csrf}}">
  % if c['class'] == 'advertising':
  <p class="small">{{legal}}</p>
  <label class="check"><input type="checkbox" name="legal" value="1" required> {{t('camp.legal_ok')}}</label>
  % end
  <button type="submit">{{t('camp.start')}}</button>
</form>
% end
% if c['state'] in ('running', 'scheduled'):
<form method="post" action="/campaigns/{{c['id']}}/pause" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="secondary">{{t('camp.pause')}}</button></form>
% end
% if c['state'] == 'paused':
<form method="post" action="/campaigns/{{c['id']}}/resume" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">{{t('camp.resume')}}</button></form>
% end
% if c['state'] == 'held' and user.is_admin:
<form method="post" action="/campaigns/{{c['id']}}/override" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">{{t('camp.override')}}</button></form>
% end
% if c['state'] not in ('done', 'cancelled'):
<form method="post" action="/campaigns/{{c['id']}}/cancel" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="secondary">{{t('camp.cancel')}}</button></form>
% end
</section>
