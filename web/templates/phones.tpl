% rebase('layout.tpl', title=title)
<h1>{{title}}</h1>
<p>{{t('ph.help')}}</p>
<section class="phone-panel" id="phone-panel">
  <div class="card">
    <label>{{t('ph.pick')}}
      <select id="phone-pick">
      % for p in people:
        <option value="{{p['phone']}}">{{p['name']}} · {{p['phone']}}</option>
      % end
      </select>
    </label>
    <label>{{t('ph.other')}}<input id="phone-other" inputmode="tel" placeholder="+79160000000"></label>
    <label>{{t('ph.to')}}
      <select id="phone-to">
      % for m in modems:
        <option value="{{m['msisdn']}}">{{m['msisdn']}} ({{m['profile']}})</option>
      % end
      </select>
    </label>
    <form id="phone-send" class="stack">
      <label>{{t('common.text')}}<textarea id="phone-text" rows="3" required maxlength="1000"></textarea></label>
      <p class="small muted">{{t('ph.examples')}}</p>
      <button type="submit">{{t('common.send')}}</button>
      <p class="small" id="phone-status" aria-live="polite"></p>
    </form>
  </div>
  <div class="card phone-screen">
    <h2>{{t('ph.received')}} <span id="phone-current"></span></h2>
    <ol id="phone-inbox" class="thread"></ol>
  </div>
</section>
