% rebase('layout.tpl', title=title)
<h1>{{title}}</h1>
<p class="muted">{{t('set.from_config', path=str(config.source or 'config.toml'))}}</p>
<p class="notice small">{{t('set.applies_soon')}}</p>
<section class="card" id="quiet-hours">
<h2>{{t('set.quiet')}}</h2>
<p><strong class="quiet-now">{{quiet.hours.start.strftime('%H:%M')}} – {{quiet.hours.end.strftime('%H:%M')}}</strong>
  <span class="badge source-{{quiet.source}}">{{t('source.' + quiet.source)}}</span>
  · {{t('set.timezone')}}: {{config.office.timezone}}</p>
<p>{{t('set.quiet_tx')}}: {{t('common.yes') if quiet.hours.transactional else t('common.no')}}</p>
% if quiet.hours.start == quiet.hours.end:
<p class="small muted">{{t('set.quiet_off')}}</p>
% end
% if quiet.ignored:
<p class="error small">{{t('set.quiet_ignored')}}</p>
% end
% if quiet.source == 'saved':
<p class="small muted">{{t('set.config_value')}}: {{config.quiet_hours.start.strftime('%H:%M')}} – {{config.quiet_hours.end.strftime('%H:%M')}}{{(', ' + t('set.quiet_tx').lower()) if config.quiet_hours.transactional else ''}}</p>
% end
% if editable:
<form method="post" action="/settings/quiet-hours" class="filters quiet-form">
  <input type="hidden" name="csrf" value="{{csrf}}">
  <label>{{t('set.quiet_start')}}<input name="start" type="time" required value="{{values.get('start', quiet.hours.start.strftime('%H:%M'))}}"></label>
  <label>{{t('set.quiet_end')}}<input name="end" type="time" required value="{{values.get('end', quiet.hours.end.strftime('%H:%M'))}}"></label>
  <label class="check"><input type="checkbox" name="transactional" value="1" {{'checked' if values.get('transactional', quiet.hours.transactional) else ''}}> {{t('set.quiet_tx')}}</label>
  <button type="submit">{{t('common.save')}}</button>
</form>
% if quiet.source == 'saved':
<form method="post" action="/settings/quiet-hours" class="inline">
  <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="action" value="reset">
  <button type="submit" class="secondary">{{t('set.reset_to_config')}}</button>
</form>
% end
% end
</section>
<section class="card" id="pacing">
<h2>{{t('set.pacing')}}</h2>
<p class="small muted">{{t('set.pacing_help')}}</p>
% if not pacing:
<p class="muted">{{t('dash.no_modems')}}</p>
% end
% for p in pacing:
<article class="pacing" id="pacing-{{p.modem_id}}">
<h3>{{p.label or ('#' + str(p.modem_id))}} <span class="small muted">{{t('set.profile')}}: {{p.profile}}</span></h3>
% if p.caps is None:
<p class="small muted">{{t('set.not_configured')}}</p>
% else:
% mine = values if values.get('modem') == p.modem_id else {}
<form method="post" action="/settings/pacing/{{p.modem_id}}" class="filters">
  <input type="hidden" name="csrf" value="{{csrf}}">
  % for key in ('per_minute', 'per_hour', 'per_day'):
  <label>{{t('set.' + key)}}
    % if editable:
    <input name="{{key}}" type="number" min="1" max="{{limits[key]}}" inputmode="numeric" placeholder="{{getattr(p.base, key)}}" value="{{mine.get(key, p.saved.get(key, ''))}}">
    % end
    <span class="small in-force"><strong>{{getattr(p.caps, key)}}</strong> <span class="badge source-{{p.sources[key]}}">{{t('source.' + p.sources[key])}}</span></span>
  </label>
  % end
  % if editable:
  <button type="submit">{{t('common.save')}}</button>
  % if p.saved:
  <button type="submit" name="action" value="reset" class="secondary">{{t('set.reset_to_config')}}</button>
  % end
  % end
</form>
% end
</article>
% end
% if unseen:
<h3>{{t('set.unseen')}}</h3>
<ul class="small muted">
% for c in unseen:
<li>{{c['name']}} · {{c['port']}} · {{c['per_minute'] or '·'}} / {{c['per_hour'] or '·'}} / {{c['per_day'] or '·'}}</li>
% end
</ul>
% end
</section>
% if editable:
<section class="card">
<h2>{{t('set.agent_cap')}}</h2>
<form method="post" action="/settings/agent-cap" class="filters">
  <input type="hidden" name="csrf" value="{{csrf}}">
  <input name="cap" type="number" min="0" max="100000" value="{{agent_cap}}" aria-label="{{t('set.agent_cap')}}">
  <button type="submit">{{t('common.save')}}</button>
</form>
</section>
<section class="card">
<h2>{{t('set.api_keys')}}</h2>
% if new_key:
<p class="notice">{{t('set.key_shown_once')}} <code class="secret">{{new_key}}</code></p>
% end
<ul>
% for k in keys:
<li>{{k['name']}} <code>{{k['prefix']}}…</code> · {{fmt_time(k['created_at'])}} · {{k['created_by']}}
% if k['revoked_at']:
  · <span class="badge cancelled">{{t('set.revoke')}}: {{fmt_time(k['revoked_at'])}}</span>
% else:
  <form method="post" action="/settings/api-keys/{{k['id']}}/revoke" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="link">{{t('set.revoke')}}</button></form>
% end
</li>
% end
</ul>
<form method="post" action="/settings/api-keys" class="filters">
  <input type="hidden" name="csrf" value="{{csrf}}">
  <input name="name" placeholder="CRM" aria-label="{{t('common.name')}}" maxlength="100">
  <button type="submit">{{t('set.new_key')}}</button>
</form>
<p class="small muted">OpenAPI: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a> · <a href="/metrics">/metrics</a></p>
</section>
<section class="card">
<h2>{{t('set.webhooks')}}</h2>
% if new_secret:
<p class="notice">{{t('set.webhook_secret')}} <code class="secret">{{new_secret}}</code></p>
% end
<ul>
% for h in hooks:
<li><code>{{h['url']}}</code> · {{h['events']}} · {{t('set.pending')}}: {{h['pending']}} · {{t('state.failed')}}: {{h['failed']}}
  <form method="post" action="/settings/webhooks/{{h['id']}}/delete" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="link">{{t('common.delete')}}</button></form>
</li>
% end
</ul>
<form method="post" action="/settings/webhooks" class="stack">
  <input type="hidden" name="csrf" value="{{csrf}}">
  <label>{{t('set.webhook_url')}}<input name="url" type="url" required placeholder="https://crm.local/smsgw"></label>
  <fieldset><legend>{{t('set.webhook_events')}}</legend>
    <label class="check"><input type="checkbox" name="event_inbound" value="1" checked> inbound</label>
    <label class="check"><input type="checkbox" name="event_status" value="1" checked> status</label>
  </fieldset>
  <button type="submit">{{t('common.save')}}</button>
</form>
</section>
% end
