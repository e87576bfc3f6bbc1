// templates/NOTES.txt: what to do after `helm install`: the webhook URL, the GitHub App (and GitLab webhook) settings,
// where the generated secrets are, and warnings about quick-start settings.
import { PORTS } from '@kritik/core';

export function notesTxt(header: string): string {
  return `{{- /* ${header} */ -}}
Kritik {{ .Chart.AppVersion }} is installed as "{{ .Release.Name }}" in namespace {{ .Release.Namespace }}.
Review Jobs run in namespace {{ include "kritik.jobsNamespace" . }}.
{{- $fullname := include "kritik.fullname" . }}
{{- $github := include "kritik.githubSecretName" . }}

1. Webhook URL of your GitHub App:
{{- if .Values.backend.ingress.enabled }}
{{- range .Values.backend.ingress.hosts }}
     http{{ if $.Values.backend.ingress.tls }}s{{ end }}://{{ .host }}/webhooks/github
{{- end }}
{{- else }}
     The backend is not exposed (backend.ingress.enabled=false). To try it out:
       kubectl -n {{ .Release.Namespace }} port-forward svc/{{ $fullname }}-backend ${PORTS.backend}:{{ .Values.backend.service.port }}
     and forward GitHub deliveries to http://localhost:${PORTS.backend}/webhooks/github (e.g. with smee.io).
{{- end }}

2. GitHub App settings (https://github.com/settings/apps/new):
     Webhook URL:     the URL above; content type application/json
     Webhook secret:  kubectl -n {{ .Release.Namespace }} get secret {{ $github }} -o jsonpath='{.data.{{ .Values.github.secretKeys.webhookSecret }}}' | base64 -d
     Repository permissions: Contents read, Pull requests read & write, Checks read & write,
                             Issues read & write (comment commands), Metadata read
     Subscribe to events:    Pull request, Issue comment
   Then install the App on your repositories.

3. Reviews API token (Authorization: Bearer ...):
     kubectl -n {{ .Release.Namespace }} get secret {{ include "kritik.apiSecretName" . }} -o jsonpath='{.data.{{ .Values.api.secretKey }}}' | base64 -d
{{- if .Values.gitlab.enabled }}

4. GitLab ({{ .Values.gitlab.url }}): in the group's or project's Settings → Webhooks, the URL above
   with /webhooks/gitlab instead of /webhooks/github, Secret token: the key
   {{ .Values.gitlab.secretKeys.webhookSecret }} of Secret {{ .Values.gitlab.existingSecret }}; triggers Merge request events and Comments.
{{- end }}
{{- if .Values.dashboard.enabled }}

{{ if .Values.gitlab.enabled }}5{{ else }}4{{ end }}. Web dashboard: {{ .Values.dashboard.url }}
     Secret {{ .Values.dashboard.existingSecret }} holds the session secret (key {{ .Values.dashboard.secretKeys.sessionSecret }}).
{{- if .Values.dashboard.github.enabled }}
     In the GitHub App's settings set the Callback URL to {{ .Values.dashboard.url }}/api/auth/callback
     and keep its client id and a client secret in that Secret
     (keys {{ .Values.dashboard.secretKeys.clientId }}, {{ .Values.dashboard.secretKeys.clientSecret }}).
{{- end }}
{{- if .Values.dashboard.gitlab.enabled }}
     On GitLab ({{ .Values.gitlab.url }}) add an OAuth application (Confidential, scope read_api) with the
     Redirect URI {{ .Values.dashboard.url }}/api/auth/gitlab/callback; its id and secret go in the same Secret
     (keys {{ .Values.dashboard.gitlab.secretKeys.clientId }}, {{ .Values.dashboard.gitlab.secretKeys.clientSecret }}).
{{- end }}
{{- end }}
{{- if and (not .Values.gitlab.enabled) (not .Values.github.existingSecret) (or (not .Values.github.appId) (not .Values.github.privateKey)) }}

WARNING: github.appId and github.privateKey are not set: the worker will not start until they
         are (or github.existingSecret names a Secret with them).
{{- end }}
{{- if and (or (eq .Values.model.provider "anthropic") (eq .Values.model.fallback.provider "anthropic")) (not (or .Values.anthropic.existingSecret .Values.anthropic.apiKey)) }}

WARNING: no Anthropic API key: set anthropic.existingSecret (a Secret with ANTHROPIC_API_KEY in
         namespace {{ include "kritik.anthropicNamespace" . }}) or anthropic.apiKey; reviews fail without it.
{{- end }}
{{- if and (ne .Values.model.provider "anthropic") (not (or .Values.model.serviceAccountAnnotations.worker .Values.model.serviceAccountAnnotations.reviewer)) }}

NOTE: model.provider is {{ .Values.model.provider }} and no ServiceAccount is annotated for workload
      identity: the {{ if .Values.anthropic.gateway }}worker{{ else }}review Jobs{{ end }} must get cloud credentials another way (EKS Pod Identity
      needs no annotation). See docs/providers.
{{- end }}
{{- if .Values.redis.enabled }}

NOTE: the bundled Redis (redis.enabled) keeps the queue in memory only and is meant for
      evaluation; use externalRedis in production.
{{- end }}
{{- if or .Values.github.privateKey .Values.anthropic.apiKey }}

NOTE: secrets given as values end up in the Helm release; use existingSecret in production.
{{- end }}
`;
}
