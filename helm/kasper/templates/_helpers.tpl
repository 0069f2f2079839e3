{{- define "kasper.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-<name>, or the release name alone when it already contains the name; fullnameOverride wins. */}}
{{- define "kasper.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "kasper.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kasper.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kasper.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{ include "kasper.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/*
Only the normal Service carries this label, not the headless one (same pods): the ServiceMonitor selects it,
so each pod is scraped once.
*/}}
{{- define "kasper.scrapedServiceLabel" -}}
app.kubernetes.io/component: admin
{{- end -}}

{{/* Gives each StatefulSet pod a DNS name; shortened so the name stays a valid Service name (63 characters). */}}
{{- define "kasper.headlessServiceName" -}}
{{- printf "%s-headless" (include "kasper.fullname" . | trunc 54 | trimSuffix "-") -}}
{{- end -}}

{{/*
The StatefulSet's name carries the instance count (<fullname>-of<replicaCount>): a count change is a new
StatefulSet, so Helm creates the new pods and deletes the old ones in the same upgrade, instead of rolling one
pod at a time with pods of both counts reading the same partitions for the whole rollout. Kasper then holds a
new pod back until the pods of the old count stopped committing (README "Changing the instance count").
At most 52 characters: the controller-revision-hash label (<name>-<10 characters>) must fit in 63.
*/}}
{{- define "kasper.statefulSetName" -}}
{{- $suffix := printf "-of%d" (int .Values.replicaCount) -}}
{{- printf "%s%s" (include "kasper.fullname" . | trunc (int (sub 52 (len $suffix))) | trimSuffix "-") $suffix -}}
{{- end -}}

{{- define "kasper.groupMode" -}}
{{- if eq .Values.assignment "group" -}}true{{- end -}}
{{- end -}}

{{/*
Group mode with static membership (KIP-345): a StatefulSet, whose pod names are stable, each pod's name its
group.instance.id, so that a restarted pod takes its own place (and partitions) back without a rebalance.
*/}}
{{- define "kasper.staticMembership" -}}
{{- if and (include "kasper.groupMode" .) .Values.staticMembership -}}true{{- end -}}
{{- end -}}

{{/* The workload's kind and name: a Deployment in group mode, else a StatefulSet. */}}
{{- define "kasper.workloadKind" -}}
{{- if and (include "kasper.groupMode" .) (not (include "kasper.staticMembership" .)) -}}Deployment{{- else -}}StatefulSet{{- end -}}
{{- end -}}

{{- define "kasper.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kasper.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Grace period above the configured shutdown timeout, so Kubernetes never kills a clean shutdown. */}}
{{- define "kasper.terminationGracePeriodSeconds" -}}
{{- if .Values.terminationGracePeriodSeconds -}}
{{- .Values.terminationGracePeriodSeconds -}}
{{- else -}}
{{- $timeoutMs := 30000 -}}
{{- if and .Values.config.shutdown .Values.config.shutdown.timeoutMs -}}{{- $timeoutMs = .Values.config.shutdown.timeoutMs -}}{{- end -}}
{{- add (div (add (int $timeoutMs) 999) 1000) 15 -}}
{{- end -}}
{{- end -}}

{{/* The pod spec shared by the StatefulSet and the batch Job. */}}
{{- define "kasper.podSpec" -}}
serviceAccountName: {{ include "kasper.serviceAccountName" . }}
terminationGracePeriodSeconds: {{ include "kasper.terminationGracePeriodSeconds" . }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
containers:
  - name: kasper
    image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
    imagePullPolicy: {{ .Values.image.pullPolicy }}
    args:
      - run
      - --config
      - /etc/kasper/kasper.yaml
      {{- if .Values.job.enabled }}
      - --exit-when-drained
      {{- end }}
    env:
      {{- if include "kasper.groupMode" . }}
      # Each pod joins the consumer group; Kafka's group protocol decides its partitions.
      - name: KASPER_INSTANCE_ASSIGNMENT
        value: group
      {{- if include "kasper.staticMembership" . }}
      # Static membership: the StatefulSet pod's stable name is its group.instance.id.
      - name: KASPER_GROUP_INSTANCE_ID
        valueFrom:
          fieldRef:
            fieldPath: metadata.name
      {{- end }}
      {{- else }}
      # A StatefulSet pod is <name>-<ordinal>: Kasper takes the ordinal as its instance index.
      - name: KASPER_POD_NAME
        valueFrom:
          fieldRef:
            fieldPath: metadata.name
      {{- if .Values.job.enabled }}
      # An Indexed Job's completion index is the instance index (it wins over the pod name).
      - name: KASPER_INSTANCE_INDEX
        valueFrom:
          fieldRef:
            fieldPath: metadata.annotations['batch.kubernetes.io/job-completion-index']
      {{- else if .Values.instanceIndexFromPodIndexLabel }}
      # The StatefulSet ordinal as a label (Kubernetes >= 1.28), instead of parsing the pod name.
      - name: KASPER_INSTANCE_INDEX
        valueFrom:
          fieldRef:
            fieldPath: metadata.labels['apps.kubernetes.io/pod-index']
      {{- end }}
      - name: KASPER_INSTANCE_COUNT
        value: {{ .Values.replicaCount | quote }}
      {{- end }}
      - name: KASPER_WORKER_THREADS
        value: {{ .Values.workerThreads | quote }}
      - name: KASPER_ADMIN_HOST
        value: "0.0.0.0"
      - name: KASPER_ADMIN_PORT
        value: {{ .Values.admin.port | quote }}
      {{- with .Values.admin.dashboardUrl }}
      - name: KASPER_ADMIN_DASHBOARD_URL
        value: {{ . | quote }}
      {{- end }}
      {{- with .Values.admin.runbookUrl }}
      - name: KASPER_ADMIN_RUNBOOK_URL
        value: {{ . | quote }}
      {{- end }}
      {{- with .Values.secrets.kafkaSaslPassword }}
      {{- if .name }}
      - name: KASPER_KAFKA_SASL_PASSWORD
        valueFrom:
          secretKeyRef:
            name: {{ .name }}
            key: {{ .key | default "password" }}
      {{- end }}
      {{- end }}
      {{- range $store, $ref := .Values.secrets.storePasswords }}
      - name: {{ printf "KASPER_STORES_%s_PASSWORD" (upper $store) }}
        valueFrom:
          secretKeyRef:
            name: {{ $ref.name }}
            key: {{ $ref.key | default "password" }}
      {{- end }}
      {{- with .Values.env }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
    ports:
      - name: admin
        containerPort: {{ .Values.admin.port }}
    livenessProbe:
      httpGet:
        path: /healthz
        port: admin
      {{- toYaml .Values.livenessProbe | nindent 6 }}
    readinessProbe:
      httpGet:
        path: /readyz
        port: admin
      {{- toYaml .Values.readinessProbe | nindent 6 }}
    resources:
      requests:
        cpu: {{ (.Values.resources.requests).cpu | default .Values.workerThreads | quote }}
        {{- with (.Values.resources.requests).memory }}
        memory: {{ . }}
        {{- end }}
      {{- with .Values.resources.limits }}
      limits:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    securityContext:
      {{- toYaml .Values.securityContext | nindent 6 }}
    volumeMounts:
      - name: config
        mountPath: /etc/kasper
        readOnly: true
      - name: tmp
        mountPath: /tmp
      {{- with .Values.extraVolumeMounts }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
volumes:
  - name: config
    configMap:
      name: {{ include "kasper.fullname" . }}
  - name: tmp
    emptyDir: {}
{{- with .Values.extraVolumes }}
{{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}


{{/* The batch Job's spec; its checksum is part of the Job's name (kasper.jobName). */}}
{{- define "kasper.jobSpec" -}}
# One completion per instance; the completion index is the instance index.
completionMode: Indexed
completions: {{ .Values.replicaCount }}
parallelism: {{ .Values.replicaCount }}
backoffLimit: {{ .Values.job.backoffLimit }}
{{- with .Values.job.activeDeadlineSeconds }}
activeDeadlineSeconds: {{ . }}
{{- end }}
ttlSecondsAfterFinished: {{ .Values.job.ttlSecondsAfterFinished }}
template:
  metadata:
    labels:
      {{- include "kasper.selectorLabels" . | nindent 6 }}
      {{- with .Values.podLabels }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
    annotations:
      checksum/config: {{ toYaml .Values.config | sha256sum }}
      {{- with .Values.podAnnotations }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
  spec:
    restartPolicy: OnFailure
    {{- include "kasper.podSpec" . | nindent 4 }}
{{- end -}}

{{/*
A Job's pod template is immutable, so `helm upgrade` could not patch it: the name ends with a checksum of the
spec (configuration, image, env, resources...), and an upgrade that changes any of it makes Helm delete the old
Job and create a new one; an upgrade that changes none of it keeps the Job. At most 59 characters, so the
Indexed Job's pod hostnames (<job>-<index>) stay within 63.
*/}}
{{- define "kasper.jobName" -}}
{{- printf "%s-%s" (include "kasper.fullname" . | trunc 50 | trimSuffix "-") (include "kasper.jobSpec" . | sha256sum | trunc 8) -}}
{{- end -}}
