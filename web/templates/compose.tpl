% rebase('layout.tpl', title=title)
<h1>{{title}}</h1>
<h2>{{t('compose.to_numbers')}}</h2>
<form method="post" action="/compose" enctype="multipart/form-data" class="stack card" data-preview="1">
  <input type="hidden" name="csrf" value="{{csrf}}">
  <label>{{t('compose.numbers')}}<textarea name="numbers" rows="4" inputmode="tel">{{values['numbers']}}</textarea></label>
  <label>{{t('compose.csv')}}<input type="file" name="csv" accept=".csv,text/csv"></label>
  <label>{{t('compose.template')}}<textarea name="text" rows="5" required maxlength="5000">{{values['text']}}</textarea></label>
  <div class="preview-box">
    <p class="small muted">{{t('compose.preview')}}</p>
    <p class="body preview-text"></p>
    <p class="preview-line small" aria-live="polite"></p>
  </div>
  <fieldset><legend>{{t('common.kind')}}</legend>
    <label class="check"><input type="radio" name="kind" value="advertising" {{'checked' if values['kind'] != 'service' else ''}}> {{t('common.advertising')}}</label>
    <label class="check"><input type="radio" name="kind" value="service" {{'checked' if values['kind'] == 'service' else ''}}> {{t('common.service')}}</label>
  </fieldset>
  <label>{{t('compose.schedule')}}<input type="datetime-local" name="when" value="{{values['when']}}"></label>
  <button type="submit">{{t('common.send')}}</button>
</form>
% if segments:
<h2>{{t('compose.to_segment')}}</h2>
<form method="post" action="/campaigns" class="stack card" data-preview="1" data-segment="1">
  <input type="hidden" name="csrf" value="{{csrf}}">
  <label>{{t('compose.name')}}<input name="name" maxlength="100"></label>
  <label>{{t('compose.role')}}<select name="role">
    <option value="customer">{{t('compose.role_customer')}}</option>
    <option value="agent">{{t('compose.role_agent')}}</option>
    <option value="">{{t('common.all')}}</option>
  </select></label>
  <label>{{t('compose.agent')}}<select name="agent_id"><option value="">—</option>
  % for a in agents:
    <option value="{{a['id']}}">{{a['name']}} {{a['phone']}}</option>
  % end
  </select></label>
  <label>{{t('compose.tags')}}<input name="tags"></label>
  <label>{{t('compose.template')}}<textarea name="text" rows="5" required maxlength="5000">{{values['text']}}</textarea></label>
  <p class="segment-line small" aria-live="polite"></p>
  <p class="preview-line small" aria-live="polite"></p>
  <fieldset><legend>{{t('common.kind')}}</legend>
    <label class="check"><input type="radio" name="kind" value="advertising" checked> {{t('common.advertising')}}</label>
    <label class="check"><input type="radio" name="kind" value="service"> {{t('common.service')}}</label>
  </fieldset>
  <label>{{t('compose.schedule')}}<input type="datetime-local" name="when"></label>
  <button type="submit">{{t('compose.create')}}</button>
</form>
% end
