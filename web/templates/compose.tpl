% rebase('layout.tpl', title=title)
<h1>{{title}}</h1>
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
