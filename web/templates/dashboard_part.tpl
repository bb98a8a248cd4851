<section class="stats">
  <div class="stat"><span class="label">{{t('dash.queue')}}</span><span class="value" id="q-queued">{{data['queue']['queued']}}</span></div>
  <div class="stat"><a href="/uncertain"><span class="label">{{t('state.uncertain')}}</span><span class="value">{{data['queue']['uncertain']}}</span></a></div>
  <div class="stat"><span class="label">{{t('state.held')}}</span><span class="value">{{data['queue']['held']}}</span></div>
  <div class="stat"><span class="label">{{t('dash.today')}}: {{t('state.delivered')}}</span><span class="value">{{data['today']['delivered']}}</span></div>
  <div class="stat"><span class="label">{{t('dash.today')}}: {{t('state.failed')}}</span><span class="value">{{data['today']['failed'] + data['today']['undelivered']}}</span></div>
  <div class="stat"><a href="/inbox?waiting=1"><span class="label">{{t('dash.inbox_waiting')}}</span><span class="value">{{data['inbox']['inbox'] + data['inbox']['new']}}</span></a></div>
  <div class="stat"><a href="/optouts"><span class="label">{{t('dash.review')}}</span><span class="value">{{data['inbox']['review']}}</span></a></div>
</section>
% if not data['modems']:
<p class="notice">{{t('dash.no_modems')}}</p>
% end
<section class="cards">
% for m in data['modems']:
  <article class="card modem status-{{m['status']}}">
    <header>
      <h2>{{m['name'] or ('#' + str(m['id']))}}</h2>
      <span class="badge {{m['status']}}">{{t('state.' + m['status'])}}</span>
    </header>
    <div class="signal" title="{{m['signal_dbm'] if m['signal_dbm'] is not None else '?'}} dBm">
      <span class="bars b{{m['bars']}}"><i></i><i></i><i></i><i></i></span>
      <span class="small">{{str(m['signal_dbm']) + ' dBm' if m['signal_dbm'] is not None else '—'}}</span>
    </div>
    <dl>
      <dt>{{t('dash.operator')}}</dt><dd>{{m['operator'] or '—'}}</dd>
      <dt>{{t('dash.registration')}}</dt><dd>{{t(m['registration_key']) if m['registration_key'] else (m['registration'] or '—')}}</dd>
      <dt>{{t('dash.sim')}}</dt><dd>{{m['msisdn'] or ''}} {{m['iccid'] or m['imsi'] or '—'}}</dd>
      <dt>{{t('dash.identity')}}</dt><dd>{{m['imei']}} · {{m['manufacturer'] or ''}} {{m['model'] or ''}}</dd>
      <dt>{{t('dash.sent_today')}}</dt>
      <dd>{{m['sent_today']}}{{(' / ' + str(m['caps']['day'])) if m['caps'] else ''}}
        <progress max="1" value="{{'%.3f' % m['day_share']}}"></progress>
        % if m['caps']:
        <span class="small muted">{{t('dash.caps', minute=m['caps']['minute'], hour=m['caps']['hour'], day=m['caps']['day'])}}</span>
        % end
      </dd>
      <dt>{{t('dash.last_seen')}}</dt><dd>{{fmt_time(m['last_seen'])}}</dd>
      % if m['last_error']:
      <dt>{{t('dash.last_error')}}</dt><dd class="error-text">{{m['last_error']}}</dd>
      % end
    </dl>
  </article>
% end
</section>
