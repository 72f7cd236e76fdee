package archive

import (
	"bytes"
	"fmt"
	"html/template"
)

// htmlPage is the text/html transcript. html/template escapes every value, so a
// message cannot inject markup into the archive's viewer.
var htmlPage = template.Must(template.New("transcript").Parse(`<!DOCTYPE html>
<html lang="und">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body{font-family:sans-serif;font-size:14px}
table{border-collapse:collapse}
td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
td.text{white-space:pre-wrap}
tr.automatic td{color:#555;font-style:italic}
tr.purged td{color:#999}
.note{color:#444;font-size:12px}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<ul class="meta">
{{- range .Meta}}
<li>{{.}}</li>
{{- end}}
</ul>
<table>
<thead><tr><th>Time (UTC)</th><th>#</th><th>From</th><th>What</th><th>Text</th></tr></thead>
<tbody>
{{- range .Entries}}
<tr class="{{.Class}}{{if .Automatic}} automatic{{end}}" data-seq="{{.Seq}}">
<td>{{.Time.Format "15:04:05"}}</td><td>{{.Seq}}</td><td>{{.Who}}</td><td>{{.Label}}{{if .Automatic}} (automatic){{end}}</td>
<td class="text">{{.Text}}{{range .Notes}}<div class="note">{{.}}</div>{{end}}</td>
</tr>
{{- end}}
</tbody>
</table>
</body>
</html>
`))

// htmlTranscript is the text/html part.
func htmlTranscript(title string, meta []string, entries []entry) (string, error) {
	var b bytes.Buffer
	err := htmlPage.Execute(&b, struct {
		Title   string
		Meta    []string
		Entries []entry
	}{title, meta, entries})
	if err != nil {
		return "", fmt.Errorf("archive: html transcript: %w", err)
	}
	return b.String(), nil
}
