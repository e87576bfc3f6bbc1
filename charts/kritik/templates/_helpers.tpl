{{- /* DO NOT EDIT: generated from cdk8s/src/chart/helpers-tpl.ts by `npm run synth`. */}}

{{- /* Prefix of every resource name, at most 40 characters so suffixes fit in 63. */}}
{{- define "kritik.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else if contains "kritik" .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-kritik" .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end }}

{{- /* Chart name and version for the helm.sh/chart label. */}}
{{- define "kritik.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end }}

{{- /* Namespace of the review Jobs. */}}
{{- define "kritik.jobsNamespace" -}}
{{- default (printf "%s-jobs" .Release.Namespace) .Values.jobs.namespace | trunc 63 | trimSuffix "-" -}}
{{- end }}

{{- /* Image reference from (list $ .Values.x.image): the digest wins over the tag, which defaults to appVersion. */}}
{{- define "kritik.image" -}}
{{- $ctx := index . 0 -}}
{{- $image := index . 1 -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $image.repository $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $image.repository (default $ctx.Chart.AppVersion $image.tag) -}}
{{- end -}}
{{- end }}

{{- /* ServiceAccount of review pods (no permissions, no token). */}}
{{- define "kritik.reviewerServiceAccountName" -}}
{{- printf "%s-reviewer" (include "kritik.fullname" .) -}}
{{- end }}

{{- /* Secret with the GitHub App id, private key and webhook secret. */}}
{{- define "kritik.githubSecretName" -}}
{{- default (printf "%s-github" (include "kritik.fullname" .)) .Values.github.existingSecret -}}
{{- end }}

{{- /* Secret with the bundled Redis password (generated, kept across upgrades). */}}
{{- define "kritik.redisSecretName" -}}
{{- printf "%s-redis" (include "kritik.fullname" .) -}}
{{- end }}

{{- /* Secret with the reviews API token. */}}
{{- define "kritik.apiSecretName" -}}
{{- default (printf "%s-api" (include "kritik.fullname" .)) .Values.api.existingSecret -}}
{{- end }}

{{- /* Secret with ANTHROPIC_API_KEY: read by the worker (gateway) or by review pods (no gateway). */}}
{{- define "kritik.anthropicSecretName" -}}
{{- default (printf "%s-anthropic" (include "kritik.fullname" .)) .Values.anthropic.existingSecret -}}
{{- end }}

{{- /* Where review pods reach the worker's model gateway (its Service). */}}
{{- define "kritik.gatewayUrl" -}}
{{- printf "http://%s-worker.%s.svc:8082" (include "kritik.fullname" .) .Release.Namespace -}}
{{- end }}

{{- /* Namespace of the Anthropic Secret: where its only reader runs. */}}
{{- define "kritik.anthropicNamespace" -}}
{{- if .Values.anthropic.gateway }}{{ .Release.Namespace }}{{ else }}{{ include "kritik.jobsNamespace" . }}{{ end -}}
{{- end }}

{{- /* A generated secret from (list $ secretName key given): the given value, else the one already stored (so upgrades keep it), else a random one. */}}
{{- define "kritik.secretValue" -}}
{{- $ctx := index . 0 -}}
{{- $given := index . 3 -}}
{{- if $given -}}
{{- $given -}}
{{- else -}}
{{- $stored := "" -}}
{{- $existing := lookup "v1" "Secret" $ctx.Release.Namespace (index . 1) -}}
{{- if and $existing $existing.data -}}
{{- $stored = index $existing.data (index . 2) | default "" | b64dec -}}
{{- end -}}
{{- $stored | default (randAlphaNum 40) -}}
{{- end -}}
{{- end }}

{{- /* REDIS_URL (not with externalRedis.sentinels): the bundled Redis, externalRedis.url, or one built from host/port. It holds no password: KRITIK_REDIS_PASSWORD carries that, from a Secret. */}}
{{- define "kritik.redisUrl" -}}
{{- $r := .Values.externalRedis -}}
{{- if .Values.redis.enabled -}}
{{- printf "redis://%s-redis:6379" (include "kritik.fullname" .) -}}
{{- else if $r.url -}}
{{- $r.url -}}
{{- else -}}
{{- printf "%s://%s:%v/%v" (ternary "rediss" "redis" $r.tls) $r.host $r.port $r.database -}}
{{- end -}}
{{- end }}

{{- /* Port of the external Redis: from its URL (6379 when the URL names none) or externalRedis.port. */}}
{{- define "kritik.redisPort" -}}
{{- $r := .Values.externalRedis -}}
{{- if $r.url -}}
{{- $host := (urlParse $r.url).host -}}
{{- if regexMatch ":[0-9]+$" $host }}{{ regexFind "[0-9]+$" $host }}{{ else }}6379{{ end -}}
{{- else -}}
{{- $r.port -}}
{{- end -}}
{{- end }}

{{- /* Ports backend and worker reach the external Redis on, comma-separated: the data port, and with sentinels theirs. */}}
{{- define "kritik.redisPorts" -}}
{{- $ports := list (include "kritik.redisPort" .) -}}
{{- range .Values.externalRedis.sentinels }}{{ $ports = append $ports (regexFind "[0-9]+$" .) }}{{ end -}}
{{- uniq $ports | join "," -}}
{{- end }}

{{- /* Fails the render on value combinations the schema cannot express. */}}
{{- define "kritik.validate" -}}
{{- $r := .Values.externalRedis -}}
{{- if and .Values.redis.enabled (or $r.url $r.host $r.sentinels) -}}
{{- fail "redis.enabled and externalRedis are both set: set redis.enabled=false to use externalRedis" -}}
{{- end -}}
{{- if not (or .Values.redis.enabled $r.url $r.host $r.sentinels) -}}
{{- fail "no Redis: set externalRedis.url, externalRedis.host or externalRedis.sentinels (production), or redis.enabled=true (evaluation)" -}}
{{- end -}}
{{- if gt (len (compact (list $r.url $r.host (join "," $r.sentinels)))) 1 -}}
{{- fail "externalRedis: set one of url, host and sentinels" -}}
{{- end -}}
{{- if and $r.sentinels (not $r.sentinelMasterName) -}}
{{- fail "externalRedis.sentinelMasterName is required with externalRedis.sentinels" -}}
{{- end -}}
{{- if and $r.sentinelPasswordKey (not $r.existingSecret) -}}
{{- fail "externalRedis.sentinelPasswordKey names a key of externalRedis.existingSecret: set that too" -}}
{{- end -}}
{{- if and $r.caSecret (not (or $r.tls (hasPrefix "rediss://" $r.url))) -}}
{{- fail "externalRedis.caSecret needs TLS: set externalRedis.tls=true or a rediss:// url" -}}
{{- end -}}
{{- if and .Values.gitlab.enabled (not .Values.gitlab.existingSecret) -}}
{{- fail "gitlab.enabled needs gitlab.existingSecret: a Secret with the access token and the webhook secret" -}}
{{- end -}}
{{- $d := .Values.dashboard -}}
{{- if and $d.enabled (not (or $d.github.enabled $d.gitlab.enabled)) -}}
{{- fail "dashboard.enabled needs a sign-in: dashboard.github.enabled or dashboard.gitlab.enabled" -}}
{{- end -}}
{{- if and $d.enabled $d.gitlab.enabled (not .Values.gitlab.enabled) -}}
{{- fail "dashboard.gitlab.enabled needs gitlab.enabled: sign-in with GitLab uses the instance of gitlab.url" -}}
{{- end -}}
{{- if and .Values.jobs.createNamespace (eq (include "kritik.jobsNamespace" .) .Release.Namespace) -}}
{{- fail "jobs.namespace is the release namespace: set jobs.createNamespace=false and label it to enforce PodSecurity restricted" -}}
{{- end -}}
{{- if and .Values.backend.autoscaling.enabled (gt (int .Values.backend.autoscaling.minReplicas) (int .Values.backend.autoscaling.maxReplicas)) -}}
{{- fail "backend.autoscaling.minReplicas is greater than maxReplicas" -}}
{{- end -}}
{{- if and .Values.worker.autoscaling.enabled (gt (int .Values.worker.autoscaling.minReplicas) (int .Values.worker.autoscaling.maxReplicas)) -}}
{{- fail "worker.autoscaling.minReplicas is greater than maxReplicas" -}}
{{- end -}}
{{- $keda := .Values.worker.autoscaling.keda -}}
{{- if and $keda.enabled .Values.worker.autoscaling.enabled -}}
{{- fail "worker.autoscaling.enabled and worker.autoscaling.keda.enabled are both set: KEDA creates the worker's HorizontalPodAutoscaler itself, set worker.autoscaling.enabled=false" -}}
{{- end -}}
{{- if and $keda.enabled (gt (int $keda.minReplicas) (int $keda.maxReplicas)) -}}
{{- fail "worker.autoscaling.keda.minReplicas is greater than maxReplicas" -}}
{{- end -}}
{{- end }}

{{- /* The worker's config file (KRITIK_CONFIG); its checksum rolls the worker pods. */}}
{{- define "kritik.workerConfig" -}}
reviewJob:
  image: {{ include "kritik.image" (list . .Values.reviewJob.image) | quote }}
  imagePullPolicy: {{ .Values.reviewJob.image.pullPolicy | quote }}
  command: {{- toYaml .Values.reviewJob.command | nindent 4 }}
  activeDeadlineSeconds: {{ .Values.reviewJob.activeDeadlineSeconds }}
  ttlSecondsAfterFinished: {{ .Values.reviewJob.ttlSecondsAfterFinished }}
  tmpSizeLimit: {{ .Values.reviewJob.tmpSizeLimit | quote }}
  workspaceSizeLimit: {{ .Values.reviewJob.workspaceSizeLimit | quote }}
  checkoutMaxBytes: {{ .Values.reviewJob.checkoutMaxBytes }}
  checkoutMaxFiles: {{ .Values.reviewJob.checkoutMaxFiles }}
  checkoutMaxFileBytes: {{ .Values.reviewJob.checkoutMaxFileBytes }}
  runAsUser: {{ .Values.reviewJob.runAsUser }}
  runAsGroup: {{ .Values.reviewJob.runAsGroup }}
  fsGroup: {{ .Values.reviewJob.fsGroup }}
  serviceAccountName: {{ include "kritik.reviewerServiceAccountName" . | quote }}
  anthropicSecretName: {{ include "kritik.anthropicSecretName" . | quote }}
  resources: {{- toYaml .Values.reviewJob.resources | nindent 4 }}
  nodeSelector: {{- toYaml .Values.reviewJob.nodeSelector | nindent 4 }}
  tolerations: {{- toYaml .Values.reviewJob.tolerations | nindent 4 }}
  affinity: {{- toYaml .Values.reviewJob.affinity | nindent 4 }}
  imagePullSecrets: {{- toYaml .Values.imagePullSecrets | nindent 4 }}
  annotations: {{- toYaml .Values.reviewJob.annotations | nindent 4 }}
  labels:
    {{- with .Values.reviewJob.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    app.kubernetes.io/instance: {{ .Release.Name | quote }}
  priorityClassName: {{ .Values.reviewJob.priorityClassName | quote }}
  env: {{- toYaml .Values.reviewJob.env | nindent 4 }}
  ceilings:
    maxCostUsd: {{ .Values.reviewJob.ceilings.maxCostUsd }}
    maxInputTokens: {{ .Values.reviewJob.ceilings.maxInputTokens }}
  caBundle:
    secret: {{ .Values.caBundle.secret | quote }}
    configMap: {{ .Values.caBundle.configMap | quote }}
    key: {{ .Values.caBundle.key | quote }}
{{- with .Values.worker.config }}
{{- toYaml . | nindent 0 }}
{{- end }}
{{- end }}

{{- /* The backend's config file (KRITIK_CONFIG); its checksum rolls the backend pods. */}}
{{- define "kritik.backendConfig" -}}
{{- toYaml .Values.backend.config }}
{{- end }}
