<section class="card">
  <p>{{t('common.state')}}: <span class="badge {{c['state']}}" id="campaign-state">{{t('camp.' + c['state'])}}</span></p>
  <p class="body">{{c['body'] or ''}}</p>
  <p class="small muted">{{t('common.kind')}}: {{t('common.' + c['class'])}}</p>
  <progress max="{{max(1, progress['total'])}}" value="{{progress['done']}}"></progress>
  <p>{{progress['done']}} / {{progress['total']}} · <span id="delivered-line">{{t('camp.delivered_of', delivered=stats.delivered, total=stats.queued_total)}}</span>
  % if c['state'] in ('running', 'scheduled') and stats.queued_total:
  <span class="small muted">· {{t('camp.live')}}</span>
  % end
  </p>
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
