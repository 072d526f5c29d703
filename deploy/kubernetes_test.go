package deploy

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"net"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/handlers/calls"
)

// k8sBase is the kustomize base of the installer.
const k8sBase = "kubernetes/base"

// fileVariables name files the installer reads: credentials and certificates, which come from
// mounted Secrets.
var fileVariables = []string{"NATS_CREDS", "NATS_NKEY", "NATS_CA", "NATS_CERT", "NATS_KEY", "ATLASSIAN_CREDENTIALS_FILE"}

// k8sObject is the part of a Kubernetes object these tests read; one type for every kind.
type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	Spec       struct {
		Replicas     *int             `yaml:"replicas"`
		Selector     k8sSelector      `yaml:"selector"` // Deployment and PodDisruptionBudget
		MinAvailable *int             `yaml:"minAvailable"`
		Ports        []k8sServicePort `yaml:"ports"`
		Template     k8sPodTemplate   `yaml:"template"`
	} `yaml:"spec"`
}

// k8sSelector reads both a Deployment's or PDB's selector (matchLabels) and a Service's (a plain map).
type k8sSelector struct {
	MatchLabels map[string]string
}

func (s *k8sSelector) UnmarshalYAML(n *yaml.Node) error {
	var withMatch struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	}
	if err := n.Decode(&withMatch); err == nil && withMatch.MatchLabels != nil {
		s.MatchLabels = withMatch.MatchLabels
		return nil
	}
	return n.Decode(&s.MatchLabels)
}

type k8sServicePort struct {
	Name       string `yaml:"name"`
	Port       int    `yaml:"port"`
	TargetPort string `yaml:"targetPort"`
}

type k8sPodTemplate struct {
	Metadata struct {
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	Spec struct {
		TerminationGracePeriodSeconds *int `yaml:"terminationGracePeriodSeconds"`
		SecurityContext               struct {
			RunAsNonRoot *bool `yaml:"runAsNonRoot"`
			RunAsUser    *int  `yaml:"runAsUser"`
		} `yaml:"securityContext"`
		Containers []k8sContainer `yaml:"containers"`
		Volumes    []struct {
			Name   string `yaml:"name"`
			Secret *struct {
				SecretName string `yaml:"secretName"`
			} `yaml:"secret"`
			EmptyDir *struct{} `yaml:"emptyDir"`
		} `yaml:"volumes"`
	} `yaml:"spec"`
}

type k8sContainer struct {
	Name  string `yaml:"name"`
	Image string `yaml:"image"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	Env []struct {
		Name string `yaml:"name"`
	} `yaml:"env"`
	EnvFrom []struct {
		ConfigMapRef *struct {
			Name string `yaml:"name"`
		} `yaml:"configMapRef"`
		SecretRef *struct {
			Name string `yaml:"name"`
		} `yaml:"secretRef"`
	} `yaml:"envFrom"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		ReadOnly  bool   `yaml:"readOnly"`
	} `yaml:"volumeMounts"`
	StartupProbe   *k8sProbe `yaml:"startupProbe"`
	LivenessProbe  *k8sProbe `yaml:"livenessProbe"`
	ReadinessProbe *k8sProbe `yaml:"readinessProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext struct {
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
		RunAsNonRoot             *bool `yaml:"runAsNonRoot"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
}

type k8sProbe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

// readObjects parses every document of a manifest file.
func readObjects(t *testing.T, file string) []k8sObject {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []k8sObject
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var o k8sObject
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if o.Kind == "" || o.APIVersion == "" || o.Metadata.Name == "" {
			t.Errorf("%s: a document without kind, apiVersion or name", file)
		}
		out = append(out, o)
	}
}

// k8sResources reads the base's kustomization and every resource it lists, by kind.
func k8sResources(t *testing.T) (kustomization map[string]any, byKind map[string]k8sObject) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(k8sBase, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &kustomization); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	if kustomization["kind"] != "Kustomization" {
		t.Errorf("kustomization.yaml: kind %v", kustomization["kind"])
	}
	byKind = map[string]k8sObject{}
	resources, _ := kustomization["resources"].([]any)
	for _, r := range resources {
		file, _ := r.(string)
		if _, err := os.Stat(filepath.Join(k8sBase, file)); err != nil {
			t.Errorf("kustomization lists %q: %v", file, err)
			continue
		}
		for _, o := range readObjects(t, filepath.Join(k8sBase, file)) {
			if _, dup := byKind[o.Kind]; dup {
				t.Errorf("two %s objects; the test expects one of each kind", o.Kind)
			}
			byKind[o.Kind] = o
		}
	}
	for _, kind := range []string{"Deployment", "Service", "PodDisruptionBudget", "ConfigMap", "ServiceAccount"} {
		if _, ok := byKind[kind]; !ok {
			t.Errorf("the base has no %s", kind)
		}
	}
	if _, ok := byKind["Secret"]; ok {
		t.Error("the base holds a Secret: credentials come from the cluster's secret store, not from the repository")
	}
	return kustomization, byKind
}

// matches reports whether selector selects a pod with labels.
func matches(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// TestKubernetesBase checks the installer's kustomize base against the installer itself:
// probes on its endpoints and port, a grace period longer than its drain, non-root on a
// read-only root filesystem with resources, a disruption budget and a Service that select its
// pods, and configuration whose every name is a variable the installer reads.
func TestKubernetesBase(t *testing.T) {
	kustomization, objs := k8sResources(t)
	dep := objs["Deployment"]
	pod := dep.Spec.Template
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 2 {
		t.Errorf("replicas %v, want 2", dep.Spec.Replicas)
	}
	if !matches(dep.Spec.Selector.MatchLabels, pod.Metadata.Labels) {
		t.Errorf("the Deployment's selector %v does not select its pods %v", dep.Spec.Selector.MatchLabels, pod.Metadata.Labels)
	}
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want the installer alone", len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]

	// Configuration: a ConfigMap and Secrets, every name one the installer reads.
	cm := objs["ConfigMap"]
	env := maps.Clone(cm.Data)
	secrets := map[string]k8sObject{}
	for _, s := range readObjects(t, filepath.Join(k8sBase, "secrets.example.yaml")) {
		secrets[s.Metadata.Name] = s
	}
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil && from.ConfigMapRef.Name != cm.Metadata.Name:
			t.Errorf("envFrom ConfigMap %q, the base's is %q", from.ConfigMapRef.Name, cm.Metadata.Name)
		case from.SecretRef != nil:
			s, ok := secrets[from.SecretRef.Name]
			if !ok {
				t.Errorf("envFrom Secret %q is not in secrets.example.yaml", from.SecretRef.Name)
			}
			for k, v := range s.StringData {
				env[k] = v
			}
		}
	}
	for _, e := range c.Env {
		env[e.Name] = ""
	}
	checkEnvNames(t, "kubernetes", env, knownEnv(t))
	for _, secret := range []string{"ATLASSIAN_API_KEY", "ATLASSIAN_API_TOKEN"} {
		if _, ok := cm.Data[secret]; ok {
			t.Errorf("%s is in the ConfigMap: it is a secret", secret)
		}
	}

	// Probes, on the port the installer listens on.
	host, httpPort, err := net.SplitHostPort(cm.Data["INSTALLER_HTTP_ADDR"])
	if err != nil || host != "0.0.0.0" {
		t.Fatalf("INSTALLER_HTTP_ADDR %q: want 0.0.0.0:PORT so that the kubelet reaches it", cm.Data["INSTALLER_HTTP_ADDR"])
	}
	ports := map[string]string{}
	for _, p := range c.Ports {
		ports[p.Name] = strconv.Itoa(p.ContainerPort)
	}
	for name, probe := range map[string]struct {
		p    *k8sProbe
		path string
	}{"liveness": {c.LivenessProbe, "/healthz"}, "readiness": {c.ReadinessProbe, "/readyz"}} {
		if probe.p == nil || probe.p.HTTPGet == nil {
			t.Errorf("no %s probe", name)
			continue
		}
		if probe.p.HTTPGet.Path != probe.path {
			t.Errorf("%s probe on %s, want %s", name, probe.p.HTTPGet.Path, probe.path)
		}
		if ports[probe.p.HTTPGet.Port] != httpPort && probe.p.HTTPGet.Port != httpPort {
			t.Errorf("%s probe on port %q, the installer listens on %s", name, probe.p.HTTPGet.Port, httpPort)
		}
	}

	// The grace period outlasts the drain: the installer exits within its drain timeout, plus
	// the call timeout of a provisioning or order POST under way, plus a few seconds, and
	// SIGKILL must not come first.
	drain := handlers.DefaultDrainTimeout
	if v, ok := cm.Data["INSTALLER_DRAIN_TIMEOUT"]; ok {
		if drain, err = time.ParseDuration(v); err != nil {
			t.Fatalf("INSTALLER_DRAIN_TIMEOUT %q: %v", v, err)
		}
	}
	grace := 30 * time.Second // Kubernetes's default
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = time.Duration(*g) * time.Second
	}
	order := calls.DefaultOrderCallTimeout
	if v, ok := cm.Data["INSTALLER_ORDER_CALL_TIMEOUT"]; ok {
		if order, err = time.ParseDuration(v); err != nil {
			t.Fatalf("INSTALLER_ORDER_CALL_TIMEOUT %q: %v", v, err)
		}
	}
	call := max(client.DefaultTimeout, order)
	if grace < drain+call+10*time.Second {
		t.Errorf("terminationGracePeriodSeconds %s, want at least the drain (%s), a call (%s) and 10s", grace, drain, call)
	}

	// Non-root, read-only, no privileges, with resources.
	sc := c.SecurityContext
	if pod.Spec.SecurityContext.RunAsNonRoot == nil || !*pod.Spec.SecurityContext.RunAsNonRoot {
		t.Error("the pod does not require runAsNonRoot")
	}
	if u := pod.Spec.SecurityContext.RunAsUser; u == nil || *u == 0 {
		t.Errorf("runAsUser %v: want the image's non-root uid", u)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("the root filesystem is writable")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("privilege escalation is allowed")
	}
	if !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Errorf("capabilities dropped %v, want ALL", sc.Capabilities.Drop)
	}
	for _, r := range []string{"cpu", "memory"} {
		if c.Resources.Requests[r] == "" {
			t.Errorf("no %s request", r)
		}
	}
	if c.Resources.Limits["memory"] == "" {
		t.Error("no memory limit")
	}

	// Volumes: every mount has its volume; every file the configuration names (credentials,
	// certificates) is a key of a Secret mounted read-only where the path points.
	volumes := map[string]bool{}
	for _, v := range pod.Spec.Volumes {
		volumes[v.Name] = true
	}
	secretDirs := map[string]string{} // mount path -> Secret
	for _, m := range c.VolumeMounts {
		if !volumes[m.Name] {
			t.Errorf("mount %s has no volume", m.Name)
		}
		for _, v := range pod.Spec.Volumes {
			if v.Name == m.Name && v.Secret != nil {
				if !m.ReadOnly {
					t.Errorf("Secret volume %s is mounted writable", m.Name)
				}
				secretDirs[m.MountPath] = v.Secret.SecretName
			}
		}
	}
	for _, name := range fileVariables {
		file, ok := cm.Data[name]
		if !ok {
			continue
		}
		dir, key := path.Split(file)
		secret, mounted := secretDirs[path.Clean(dir)]
		if !mounted {
			t.Errorf("%s %s is not in a mounted Secret", name, file)
			continue
		}
		if _, ok := secrets[secret].StringData[key]; !ok {
			t.Errorf("%s %s: Secret %s in secrets.example.yaml has no key %s", name, file, secret, key)
		}
	}
	if _, ok := cm.Data["NATS_CREDS"]; !ok {
		t.Error("no NATS_CREDS: the installer would connect to NATS unauthenticated")
	}
	if got, want := cm.Data["NATS_INBOX_PREFIX"], inboxPrefixes["installer"]; got != want {
		t.Errorf("NATS_INBOX_PREFIX %q: the installer user of nats/accounts.conf may subscribe to %s.> only", got, want)
	}
	if _, ok := cm.Data["NATS_CA"]; ok {
		for _, u := range strings.Split(cm.Data["NATS_URL"], ",") {
			if !strings.HasPrefix(u, "tls://") {
				t.Errorf("NATS_URL %s: with NATS_CA the servers are reached over tls://", u)
			}
		}
	}

	// The Service serves metrics from the installer's pods; the budget keeps one of them.
	svc := objs["Service"]
	if !matches(svc.Spec.Selector.MatchLabels, pod.Metadata.Labels) {
		t.Errorf("the Service's selector %v does not select the installer's pods", svc.Spec.Selector.MatchLabels)
	}
	for _, p := range svc.Spec.Ports {
		if ports[p.TargetPort] != httpPort && p.TargetPort != httpPort {
			t.Errorf("Service port %s targets %q, not the installer's HTTP port", p.Name, p.TargetPort)
		}
	}
	pdb := objs["PodDisruptionBudget"]
	if !matches(pdb.Spec.Selector.MatchLabels, pod.Metadata.Labels) {
		t.Errorf("the PodDisruptionBudget's selector %v does not select the installer's pods", pdb.Spec.Selector.MatchLabels)
	}
	if m := pdb.Spec.MinAvailable; m == nil || *m < 1 || *m >= *dep.Spec.Replicas {
		t.Errorf("minAvailable %v: want at least one pod kept and one allowed to go", m)
	}

	// The image the kustomization sets is the container's.
	images, _ := kustomization["images"].([]any)
	named := false
	for _, im := range images {
		if m, _ := im.(map[string]any); m["name"] == c.Image {
			named = true
		}
	}
	if !named {
		t.Errorf("the kustomization's images do not name the container's image %q", c.Image)
	}
}

// TestNATSHelmValues wants the NATS chart's values to make what the installer's streams need:
// three clustered JetStream nodes that fsync every write, on the server version the tests embed.
func TestNATSHelmValues(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("kubernetes", "nats-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Config struct {
			NATS struct {
				TLS struct {
					Enabled bool           `yaml:"enabled"`
					Merge   map[string]any `yaml:"merge"`
				} `yaml:"tls"`
			} `yaml:"nats"`
			Cluster struct {
				Enabled  bool `yaml:"enabled"`
				Replicas int  `yaml:"replicas"`
			} `yaml:"cluster"`
			JetStream struct {
				Enabled   bool `yaml:"enabled"`
				FileStore struct {
					Enabled bool `yaml:"enabled"`
					PVC     struct {
						Enabled bool   `yaml:"enabled"`
						Size    string `yaml:"size"`
					} `yaml:"pvc"`
				} `yaml:"fileStore"`
				Merge map[string]any `yaml:"merge"`
			} `yaml:"jetstream"`
		} `yaml:"config"`
		TLSCA struct {
			Enabled bool `yaml:"enabled"`
		} `yaml:"tlsCA"`
		Container struct {
			Image struct {
				Tag string `yaml:"tag"`
			} `yaml:"image"`
		} `yaml:"container"`
	}
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	if !v.Config.Cluster.Enabled || v.Config.Cluster.Replicas != 3 {
		t.Errorf("cluster enabled %v with %d replicas, want three nodes", v.Config.Cluster.Enabled, v.Config.Cluster.Replicas)
	}
	js := v.Config.JetStream
	if !js.Enabled || !js.FileStore.Enabled || !js.FileStore.PVC.Enabled || js.FileStore.PVC.Size == "" {
		t.Errorf("JetStream %+v: want it enabled on a file store with a persistent volume", js)
	}
	if js.Merge["sync_interval"] != "always" {
		t.Errorf("jetstream sync_interval %v, want always", js.Merge["sync_interval"])
	}
	// The installer's base connects with a client certificate on a private CA.
	if !v.Config.NATS.TLS.Enabled || v.Config.NATS.TLS.Merge["verify"] != true || !v.TLSCA.Enabled {
		t.Errorf("client TLS %+v, CA %+v: want TLS verifying client certificates on a private CA", v.Config.NATS.TLS, v.TLSCA)
	}
	_, tag := splitImage(loadCompose(t).Services["nats-1"].Image)
	if v.Container.Image.Tag != tag {
		t.Errorf("nats image tag %q, the compose stack and the tests use %q", v.Container.Image.Tag, tag)
	}
}
