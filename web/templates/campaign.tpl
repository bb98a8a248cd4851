% rebase('layout.tpl', title=title)
<p><a href="/campaigns">{{t('common.back')}}</a></p>
<h1>{{c['name']}}</h1>
% if c['state'] in ('running', 'scheduled', 'paused'):
<div id="campaign-live" data-refresh="/ui/campaign/{{c['id']}}.part" data-every="2000">
% else:
<div id="campaign-live">
% end
% include('campaign_part.tpl')
</div>
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
