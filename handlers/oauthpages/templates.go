package oauthpages

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
)

// style is the pages' only styling, inline so that the pages load nothing; the CSP allows it by
// its hash.
const style = `body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#222}` +
	`h1{font-size:1.4rem}label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.5rem;box-sizing:border-box}` +
	`button{margin-top:1rem;padding:.5rem 1.2rem;margin-right:.5rem}.error{color:#a00}.box{border:1px solid #ccc;padding:.8rem;border-radius:.4rem}` +
	`code{background:#f3f3f3;padding:0 .2rem}`

var styleHash = func() string {
	sum := sha256.Sum256([]byte(style))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

// pageCSP lets a page apply its own style and nothing else (form-action is left out: browsers
// apply it to the redirect after the consent form, which goes to the client); no
// site may frame it, so that a click cannot be stolen.
var pageCSP = "default-src 'none'; style-src " + styleHash + "; frame-ancestors 'none'; base-uri 'none'"

const layout = `{{define "head"}}<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
	`<meta name="referrer" content="no-referrer"><title>{{.Title}} · Jarvis</title><style>` + style + `</style></head><body>{{end}}` +
	`{{define "foot"}}</body></html>{{end}}`

var pages = template.Must(template.New("pages").Parse(layout + `
{{define "login"}}{{template "head" .}}
<h1>Sign in to Jarvis</h1>
{{if .ClientName}}<p><strong>{{.ClientName}}</strong> asks to use Jarvis on your behalf.</p>{{end}}
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/oauth/login">
<input type="hidden" name="csrf" value="{{.CSRF}}"><input type="hidden" name="request" value="{{.Request}}">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required value="{{.Email}}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
{{template "foot" .}}{{end}}

{{define "consent"}}{{template "head" .}}
<h1>Allow {{.ClientName}}?</h1>
<div class="box">
<p><strong>{{.ClientName}}</strong> will act as <strong>{{.Email}}</strong> on Jarvis.</p>
<p>After you decide, you return to <code>{{.RedirectHost}}</code>.</p>
<p>It may:</p><ul>{{range .Scopes}}<li><code>{{.Name}}</code>: {{.Meaning}}</li>{{end}}</ul>
<p>on the resource <code>{{.Resource}}</code>.</p>
</div>
<form method="post" action="/oauth/consent">
<input type="hidden" name="csrf" value="{{.CSRF}}"><input type="hidden" name="request" value="{{.Request}}">
<button type="submit" name="decision" value="approve">Allow</button><button type="submit" name="decision" value="deny">Deny</button>
</form>
<p>Jarvis remembers this answer for this app and these permissions until you revoke it.</p>
{{template "foot" .}}{{end}}

{{define "setpassword"}}{{template "head" .}}
<h1>Choose your Jarvis password</h1>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/oauth/link">
<input type="hidden" name="csrf" value="{{.CSRF}}"><input type="hidden" name="token" value="{{.Token}}">
<label for="password">New password (at least 12 characters)</label><input id="password" name="password" type="password" autocomplete="new-password" required>
<button type="submit">Set password</button>
</form>
{{template "foot" .}}{{end}}

{{define "message"}}{{template "head" .}}
<h1>{{.Title}}</h1>
{{if .Code}}<p class="error">Error <code>{{.Code}}</code></p>{{end}}
<p>{{.Message}}</p>
{{template "foot" .}}{{end}}
`))
