% rebase('layout.tpl', title=title)
<h1>{{title}}</h1>
<p class="muted">{{t('set.from_config', path=str(config.source or 'config.toml'))}}</p>
<section class="card">
<h2>{{t('set.quiet')}}</h2>
<p>{{config.quiet_hours.start.strftime('%H:%M')}} – {{config.quiet_hours.end.strftime('%H:%M')}} · {{t('set.timezone')}}: {{config.office.timezone}}</p>
<p>{{t('set.quiet_tx')}}: {{t('common.yes') if config.quiet_hours.transactional else t('common.no')}}</p>
</section>
<section class="card">
<h2>{{t('set.pacing')}}</h2>
<div class="table"><table>
<thead><tr><th>{{t('common.name')}}</th><th>IMEI</th><th>/мин · /min</th><th>/час · /hour</th><th>/день · /day</th></tr></thead>
<tbody>
% for m in modems:
<tr><td>{{m['name'] or m['id']}}</td><td>{{m['imei']}}</td>
% if m['caps']:
<td>{{m['caps']['minute']}}</td><td>{{m['caps']['hour']}}</td><td>{{m['caps']['day']}}</td>
% else:
<td colspan="3">—</td>
% end
</tr>
% end
% for c in configured:
<tr class="muted"><td>{{c['name']}}</td><td>{{c['port']}}</td><td>{{c['per_minute'] or '·'}}</td><td>{{c['per_hour'] or '·'}}</td><td>{{c['per_day'] or '·'}}</td></tr>
% end
</tbody></table></div>
</section>
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
