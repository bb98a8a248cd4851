% rebase('layout.tpl', title=title)
<h1>{{title}}</h1>
<div class="table"><table>
<thead><tr><th>{{t('login.username')}}</th><th>{{t('users.role')}}</th><th>{{t('users.agent')}}</th><th>{{t('users.disabled')}}</th><th>{{t('common.actions')}}</th></tr></thead>
<tbody>
% for u in rows:
<tr>
  <td>{{u['username']}}</td>
  <td colspan="3">
    <form method="post" action="/users/{{u['id']}}" class="inline">
      <input type="hidden" name="csrf" value="{{csrf}}">
      <select name="role" aria-label="{{t('users.role')}}">
      % for r in roles:
        <option value="{{r}}" {{'selected' if r == u['role'] else ''}}>{{t('role.' + r)}}</option>
      % end
      </select>
      <select name="contact_id" aria-label="{{t('users.agent')}}">
        <option value="">—</option>
      % for a in agents:
        <option value="{{a['id']}}" {{'selected' if a['id'] == u['contact_id'] else ''}}>{{a['name']}} {{a['phone']}}</option>
      % end
      </select>
      <label class="check"><input type="checkbox" name="disabled" value="1" {{'checked' if u['disabled'] else ''}}> {{t('users.disabled')}}</label>
      <button type="submit" name="action" value="save">{{t('common.save')}}</button>
    </form>
  </td>
  <td>
    <form method="post" action="/users/{{u['id']}}" class="inline">
      <input type="hidden" name="csrf" value="{{csrf}}">
      <input type="password" name="password" placeholder="{{t('users.new_password')}}" autocomplete="new-password" aria-label="{{t('users.new_password')}}">
      <button type="submit" name="action" value="password" class="secondary">{{t('common.save')}}</button>
    </form>
    <form method="post" action="/users/{{u['id']}}" class="inline">
      <input type="hidden" name="csrf" value="{{csrf}}">
      <button type="submit" name="action" value="unlock" class="link">{{t('users.unlock')}}</button>
    </form>
  </td>
</tr>
% end
</tbody></table></div>
<h2>{{t('users.add')}}</h2>
<form method="post" action="/users" class="stack card">
  <input type="hidden" name="csrf" value="{{csrf}}">
  <label>{{t('login.username')}}<input name="username" required autocomplete="off"></label>
  <label>{{t('login.password')}}<input name="password" type="password" required autocomplete="new-password" minlength="10"></label>
  <label>{{t('users.role')}}<select name="role">
  % for r in roles:
    <option value="{{r}}">{{t('role.' + r)}}</option>
  % end
  </select></label>
  <label>{{t('users.agent')}}<select name="contact_id"><option value="">—</option>
  % for a in agents:
    <option value="{{a['id']}}">{{a['name']}} {{a['phone']}} {{a['agent_code'] or ''}}</option>
  % end
  </select></label>
  <button type="submit">{{t('users.add')}}</button>
</form>
