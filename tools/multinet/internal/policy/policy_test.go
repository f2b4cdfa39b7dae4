package policy

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	nadv1 "github.com/k8snetworkplumbingwg/network-attachment-definition-client/pkg/apis/k8s.cni.cncf.io/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"kstack.local/tools/multinet/internal/attach"
)

// The expected rules below are written by hand from the iptables semantics each case needs (which
// chain, which direction flag, which target), not copied from the output: a translation that swaps a
// target or a direction fails here.

const (
	netA = "app/net-a"
	netB = "app/net-b"
)

// mnp decodes a MultiNetworkPolicy the way the API lists it (through FromUnstructured, as main does).
func mnp(t *testing.T, namespace, name, policyFor, spec string) *Policy {
	t.Helper()
	annotations := "{}"
	if policyFor != "" {
		annotations = fmt.Sprintf(`{%q: %q}`, PolicyForAnnot, policyFor)
	}
	obj := fmt.Sprintf(`{"apiVersion": "k8s.cni.cncf.io/v1beta1", "kind": "MultiNetworkPolicy",
		"metadata": {"namespace": %q, "name": %q, "annotations": %s}, "spec": %s}`, namespace, name, annotations, spec)
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON([]byte(obj)); err != nil {
		t.Fatalf("policy %s/%s: %v", namespace, name, err)
	}
	p, err := FromUnstructured(u)
	if err != nil {
		t.Fatalf("policy %s/%s: %v", namespace, name, err)
	}
	return p
}

type netIP struct {
	network string
	ips     []string
}

type podOpt func(*corev1.Pod)

func phase(ph corev1.PodPhase) podOpt { return func(p *corev1.Pod) { p.Status.Phase = ph } }

func deleting() podOpt {
	return func(p *corev1.Pod) { ts := metav1.NewTime(time.Unix(1, 0)); p.DeletionTimestamp = &ts }
}

func ports(cps ...corev1.ContainerPort) podOpt {
	return func(p *corev1.Pod) { p.Spec.Containers = []corev1.Container{{Name: "main", Ports: cps}} }
}

func on(network string, ips ...string) netIP { return netIP{network, ips} }

// pod is a running pod with a default-network address (which policies must never use) and the given
// secondary-network addresses in its network-status annotation.
func pod(namespace, name string, lbls map[string]string, nets []netIP, opts ...podOpt) *corev1.Pod {
	statuses := []nadv1.NetworkStatus{{Name: "kube-router", Interface: "eth0", IPs: []string{"10.244.9.9"}, Default: true}}
	for i, n := range nets {
		statuses = append(statuses, nadv1.NetworkStatus{Name: n.network, Interface: fmt.Sprintf("net%d", i+1), IPs: n.ips})
	}
	status, _ := json.Marshal(statuses)
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: lbls, Annotations: map[string]string{nadv1.NetworkStatusAnnot: string(status)}},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func namespace(name string, lbls map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: lbls}}
}

// The pod whose rules are rendered: on net-a as net1 and net-b as net2, with named ports http (TCP) and dns (UDP).
var web = pod("app", "web", map[string]string{"app": "web"}, []netIP{on(netA, "10.10.0.10"), on(netB, "10.20.0.10")},
	ports(corev1.ContainerPort{Name: "http", ContainerPort: 8080}, corev1.ContainerPort{Name: "dns", ContainerPort: 5353, Protocol: corev1.ProtocolUDP}))

func cluster() ([]*corev1.Pod, []*corev1.Namespace) {
	db := map[string]string{"app": "db"}
	mon := map[string]string{"app": "mon"}
	mysql := ports(corev1.ContainerPort{Name: "mysql", ContainerPort: 3306, Protocol: corev1.ProtocolTCP})
	pods := []*corev1.Pod{
		web,
		pod("app", "db", db, []netIP{on(netA, "10.10.0.20"), on(netB, "10.20.0.20")}, mysql),
		pod("app", "db-default-only", db, nil),                                                 // not attached to net-a: no peer
		pod("app", "db-done", db, []netIP{on(netA, "10.10.0.21")}, phase(corev1.PodSucceeded)), // finished: no peer
		pod("app", "db-failed", db, []netIP{on(netA, "10.10.0.22")}, phase(corev1.PodFailed)),
		pod("app", "db-deleting", db, []netIP{on(netA, "10.10.0.23")}, deleting()),
		pod("app", "cache", map[string]string{"app": "cache"}, []netIP{on(netA, "10.10.0.30", "fd00::30")}),
		pod("ops", "mon", mon, []netIP{on(netA, "10.10.0.40")}),
		pod("ops", "db", db, []netIP{on(netA, "10.10.0.41")}), // same labels as app/db, other namespace
		pod("other", "mon", mon, []netIP{on(netA, "10.10.0.50")}),
	}
	nss := []*corev1.Namespace{
		namespace("app", map[string]string{"kubernetes.io/metadata.name": "app"}),
		namespace("ops", map[string]string{"team": "ops"}),
		namespace("other", map[string]string{"team": "other"}),
	}
	return pods, nss
}

var (
	net1 = attach.Attachment{Network: netA, IfName: "net1"}
	net2 = attach.Attachment{Network: netB, IfName: "net2"}
)

// table is a full filter table: the given chains declared, then the rule lines.
func table(chains []string, lines ...string) string {
	var b strings.Builder
	b.WriteString("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n")
	for _, c := range chains {
		b.WriteString(":" + c + " - [0:0]\n")
	}
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	b.WriteString("COMMIT\n")
	return b.String()
}

func chains(names ...string) []string { return names }

const (
	jumpIn1    = "-A INPUT -i net1 -j MNP-I-net1"
	jumpOut1   = "-A OUTPUT -o net1 -j MNP-E-net1"
	replyIn1   = "-A MNP-I-net1 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"
	replyOut1  = "-A MNP-E-net1 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"
	dropIn1    = "-A MNP-I-net1 -j DROP"
	dropOut1   = "-A MNP-E-net1 -j DROP"
	allowWebDB = `{"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "db"}}}]}]}`
)

type policySpec struct{ namespace, name, policyFor, spec string }

func TestRules(t *testing.T) {
	cases := []struct {
		name        string
		policies    []policySpec
		attachments []attach.Attachment
		want        string
	}{
		{
			name:        "ingress allowed from pods by podSelector, same namespace, running, on the network",
			policies:    []policySpec{{"app", "allow-db", "net-a", allowWebDB}},
			attachments: []attach.Attachment{net1},
			want: table(chains("MNP-I-net1"), jumpIn1, replyIn1,
				"-A MNP-I-net1 -s 10.10.0.20/32 -j ACCEPT",
				dropIn1),
		},
		{
			name: "egress allowed to pods by podSelector, named port resolved on the peer",
			policies: []policySpec{{"app", "to-db", "net-a", `{"podSelector": {}, "policyTypes": ["Egress"],
				"egress": [{"to": [{"podSelector": {"matchLabels": {"app": "db"}}}], "ports": [{"port": "mysql"}]}]}`}},
			attachments: []attach.Attachment{net1},
			want: table(chains("MNP-E-net1"), jumpOut1, replyOut1,
				"-A MNP-E-net1 -d 10.10.0.20/32 -p tcp -m tcp --dport 3306 -j ACCEPT",
				dropOut1),
		},
		{
			name: "ingress allowed from every pod of the namespaces a namespaceSelector picks",
			policies: []policySpec{{"app", "from-ops", "net-a", `{"podSelector": {},
				"ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "ops"}}}]}]}`}},
			attachments: []attach.Attachment{net1},
			want: table(chains("MNP-I-net1"), jumpIn1, replyIn1,
				"-A MNP-I-net1 -s 10.10.0.40/32 -j ACCEPT",
				"-A MNP-I-net1 -s 10.10.0.41/32 -j ACCEPT",
				dropIn1),
		},
		{
			name: "namespaceSelector and podSelector in one peer must both match",
			policies: []policySpec{{"app", "from-ops-mon", "net-a", `{"podSelector": {},
				"ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "ops"}}, "podSelector": {"matchLabels": {"app": "mon"}}}]}]}`}},
			attachments: []attach.Attachment{net1},
			want: table(chains("MNP-I-net1"), jumpIn1, replyIn1,
				"-A MNP-I-net1 -s 10.10.0.40/32 -j ACCEPT",
				dropIn1),
		},
		{
			name: "egress to an empty namespaceSelector: pods of every namespace on the network",
			policies: []policySpec{{"app", "to-all", "net-a", `{"podSelector": {}, "policyTypes": ["Egress"],
				"egress": [{"to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "mon"}}}]}]}`}},
			attachments: []attach.Attachment{net1},
			want: table(chains("MNP-E-net1"), jumpOut1, replyOut1,
				"-A MNP-E-net1 -d 10.10.0.40/32 -j ACCEPT",
				"-A MNP-E-net1 -d 10.10.0.50/32 -j ACCEPT",
				dropOut1),
		},
		{
			name: "a peer with two addresses (IPv4 and IPv6) gets a host rule for each",
			policies: []policySpec{{"app", "from-cache", "net-a", `{"podSelector": {},
				"ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "cache"}}}]}]}`}},
			attachments: []attach.Attachment{net1},
			want: table(chains("MNP-I-net1"), jumpIn1, replyIn1,
				"-A MNP-I-net1 -s 10.10.0.30/32 -j ACCEPT",
				"-A MNP-I-net1 -s fd00::30/128 -j ACCEPT",
				dropIn1),
		},
		{
			name: "ingress ipBlock with except: a sub-chain returns the excepted sources before accepting",
			policies: []policySpec{{"app", "from-block", "net-a", `{"podSelector": {"matchLabels": {"app": "web"}},
				"ingress": [{"from": [{"ipBlock": {"cidr": "10.10.0.0/16", "except": ["10.10.5.0/24", "10.10.6.0/24"]}}, {"ipBlock": {"cidr": "192.168.0.0/24"}}]}]}`}},
			attachments: []attach.Attachment{net1},
			want: table(chains("MNP-I-net1", "MNP-I-net1-1"), jumpIn1, replyIn1,
				"-A MNP-I-net1-1 -s 10.10.5.0/24 -j RETURN",
				"-A MNP-I-net1-1 -s 10.10.6.0/24 -j RETURN",
				"-A MNP-I-net1-1 -j ACCEPT",
				"-A MNP-I-net1 -s 10.10.0.0/16 -j MNP-I-net1-1",
				"-A MNP-I-net1 -s 192.168.0.0/24 -j ACCEPT",
				dropIn1),
		},
		{
			name: "egress ipBlock with except and a UDP port: destinations, not sources",
			policies: []policySpec{{"app", "to-dns", "net-a", `{"podSelector": {}, "policyTypes": ["Egress"],
				"egress": [{"to": [{"ipBlock": {"cidr": "10.30.0.0/16", "except": ["10.30.1.0/24"]}}], "ports": [{"protocol": "UDP", "port": 53}]}]}`}},
			attachments: []attach.Attachment{net1},
			want: table(chains("MNP-E-net1", "MNP-E-net1-1"), jumpOut1, replyOut1,
				"-A MNP-E-net1-1 -d 10.30.1.0/24 -j RETURN",
				"-A MNP-E-net1-1 -j ACCEPT",
				"-A MNP-E-net1 -d 10.30.0.0/16 -p udp -m udp --dport 53 -j MNP-E-net1-1",
				dropOut1),
		},
		{
			name: "ports from anywhere: TCP, UDP, protocol only, range, named on the pod itself, unknown name left out",
			policies: []policySpec{{"app", "ports", "net-a", `{"podSelector": {}, "ingress": [{"ports": [
				{"port": 80}, {"protocol": "UDP", "port": 53}, {"protocol": "UDP"}, {"port": 8000, "endPort": 8100},
				{"port": "http"}, {"protocol": "UDP", "port": "dns"}, {"port": "dns"}, {"port": "nope"}, {"protocol": "SCTP", "port": 9}]}]}`}},
			attachments: []attach.Attachment{net1},
			want: table(chains("MNP-I-net1"), jumpIn1, replyIn1,
				"-A MNP-I-net1 -p tcp -m tcp --dport 80 -j ACCEPT",
				"-A MNP-I-net1 -p udp -m udp --dport 53 -j ACCEPT",
				"-A MNP-I-net1 -p udp -j ACCEPT",
				"-A MNP-I-net1 -p tcp -m tcp --dport 8000:8100 -j ACCEPT",
				"-A MNP-I-net1 -p tcp -m tcp --dport 8080 -j ACCEPT",
				"-A MNP-I-net1 -p udp -m udp --dport 5353 -j ACCEPT",
				"-A MNP-I-net1 -p sctp -m sctp --dport 9 -j ACCEPT",
				dropIn1),
		},
		{
			name: "ports with pod peers: one rule per address and port",
			policies: []policySpec{{"app", "db-ports", "net-a", `{"podSelector": {}, "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "cache"}}}],
				"ports": [{"port": 6379}, {"protocol": "UDP", "port": "dns"}]}]}`}},
			attachments: []attach.Attachment{net1},
			want: table(chains("MNP-I-net1"), jumpIn1, replyIn1,
				"-A MNP-I-net1 -s 10.10.0.30/32 -p tcp -m tcp --dport 6379 -j ACCEPT",
				"-A MNP-I-net1 -s 10.10.0.30/32 -p udp -m udp --dport 5353 -j ACCEPT",
				"-A MNP-I-net1 -s fd00::30/128 -p tcp -m tcp --dport 6379 -j ACCEPT",
				"-A MNP-I-net1 -s fd00::30/128 -p udp -m udp --dport 5353 -j ACCEPT",
				dropIn1),
		},
		{
			name: "a named port in egress to an ipBlock has no pod to resolve it on: left out",
			policies: []policySpec{{"app", "to-block", "net-a", `{"podSelector": {}, "policyTypes": ["Egress"],
				"egress": [{"to": [{"ipBlock": {"cidr": "10.30.0.0/16"}}], "ports": [{"port": "http"}, {"port": 443}]}]}`}},
			attachments: []attach.Attachment{net1},
			want: table(chains("MNP-E-net1"), jumpOut1, replyOut1,
				"-A MNP-E-net1 -d 10.30.0.0/16 -p tcp -m tcp --dport 443 -j ACCEPT",
				dropOut1),
		},
		{
			name:        "an empty ingress rule allows everything",
			policies:    []policySpec{{"app", "allow-all", "net-a", `{"podSelector": {}, "ingress": [{}]}`}},
			attachments: []attach.Attachment{net1},
			want:        table(chains("MNP-I-net1"), jumpIn1, replyIn1, "-A MNP-I-net1 -j ACCEPT", dropIn1),
		},
		{
			name:        "default deny: a policy with no rules isolates ingress (replies still pass)",
			policies:    []policySpec{{"app", "deny", "net-a", `{"podSelector": {}}`}},
			attachments: []attach.Attachment{net1},
			want:        table(chains("MNP-I-net1"), jumpIn1, replyIn1, dropIn1),
		},
		{
			name:        "default deny egress",
			policies:    []policySpec{{"app", "deny-out", "net-a", `{"podSelector": {}, "policyTypes": ["Egress"]}`}},
			attachments: []attach.Attachment{net1},
			want:        table(chains("MNP-E-net1"), jumpOut1, replyOut1, dropOut1),
		},
		{
			name:        "default deny both ways",
			policies:    []policySpec{{"app", "deny-all", "net-a", `{"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}`}},
			attachments: []attach.Attachment{net1},
			want:        table(chains("MNP-I-net1", "MNP-E-net1"), jumpIn1, replyIn1, dropIn1, jumpOut1, replyOut1, dropOut1),
		},
		{
			name: "no policyTypes but egress rules: both directions isolated",
			policies: []policySpec{{"app", "implicit", "net-a", `{"podSelector": {},
				"egress": [{"to": [{"podSelector": {"matchLabels": {"app": "db"}}}]}]}`}},
			attachments: []attach.Attachment{net1},
			want: table(chains("MNP-I-net1", "MNP-E-net1"), jumpIn1, replyIn1, dropIn1, jumpOut1, replyOut1,
				"-A MNP-E-net1 -d 10.10.0.20/32 -j ACCEPT",
				dropOut1),
		},
		{
			name: "policies in name order, except sub-chains numbered across them",
			policies: []policySpec{
				{"app", "b-second", "net-a", `{"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.2.0.0/16", "except": ["10.2.2.0/24"]}}]}]}`},
				{"app", "a-first", "net-a", `{"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.1.0.0/16", "except": ["10.1.1.0/24"]}}]}]}`},
			},
			attachments: []attach.Attachment{net1},
			want: table(chains("MNP-I-net1", "MNP-I-net1-1", "MNP-I-net1-2"), jumpIn1, replyIn1,
				"-A MNP-I-net1-1 -s 10.1.1.0/24 -j RETURN",
				"-A MNP-I-net1-1 -j ACCEPT",
				"-A MNP-I-net1 -s 10.1.0.0/16 -j MNP-I-net1-1",
				"-A MNP-I-net1-2 -s 10.2.2.0/24 -j RETURN",
				"-A MNP-I-net1-2 -j ACCEPT",
				"-A MNP-I-net1 -s 10.2.0.0/16 -j MNP-I-net1-2",
				dropIn1),
		},
		{
			name:        "policy-for picks the network: only that interface is matched, peers by their address there",
			policies:    []policySpec{{"app", "on-b", "net-b", allowWebDB}},
			attachments: []attach.Attachment{net1, net2},
			want: table(chains("MNP-I-net2"), "-A INPUT -i net2 -j MNP-I-net2",
				"-A MNP-I-net2 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
				"-A MNP-I-net2 -s 10.20.0.20/32 -j ACCEPT",
				"-A MNP-I-net2 -j DROP"),
		},
		{
			name:        "policy-for with a namespaced name and a bare one: a chain per interface",
			policies:    []policySpec{{"app", "on-both", " app/net-a , net-b ", allowWebDB}},
			attachments: []attach.Attachment{net1, net2},
			want: table(chains("MNP-I-net1", "MNP-I-net2"), jumpIn1, replyIn1,
				"-A MNP-I-net1 -s 10.10.0.20/32 -j ACCEPT",
				dropIn1,
				"-A INPUT -i net2 -j MNP-I-net2",
				"-A MNP-I-net2 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
				"-A MNP-I-net2 -s 10.20.0.20/32 -j ACCEPT",
				"-A MNP-I-net2 -j DROP"),
		},
		{
			name:        "policy-for another network: no rules",
			policies:    []policySpec{{"app", "on-b", "net-b", allowWebDB}},
			attachments: []attach.Attachment{net1},
			want:        "",
		},
		{
			name:        "policy-for a network of the same name in another namespace: no rules",
			policies:    []policySpec{{"app", "on-ops-a", "ops/net-a", allowWebDB}},
			attachments: []attach.Attachment{net1},
			want:        "",
		},
		{
			name:        "no policy-for annotation: the policy is for no network",
			policies:    []policySpec{{"app", "unbound", "", allowWebDB}},
			attachments: []attach.Attachment{net1},
			want:        "",
		},
		{
			name:        "a policy of another namespace does not apply",
			policies:    []policySpec{{"ops", "elsewhere", "app/net-a", `{"podSelector": {}}`}},
			attachments: []attach.Attachment{net1},
			want:        "",
		},
		{
			name:        "a podSelector that does not match the pod: no rules",
			policies:    []policySpec{{"app", "for-db", "net-a", `{"podSelector": {"matchLabels": {"app": "db"}}}`}},
			attachments: []attach.Attachment{net1},
			want:        "",
		},
		{
			name:        "no attachments: no rules",
			policies:    []policySpec{{"app", "deny", "net-a", `{"podSelector": {}}`}},
			attachments: nil,
			want:        "",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pods, nss := cluster()
			var policies []*Policy
			for _, p := range tc.policies {
				policies = append(policies, mnp(t, p.namespace, p.name, p.policyFor, p.spec))
			}
			got := NewWorld(pods, nss, policies).Rules(web, tc.attachments)
			if got != tc.want {
				t.Errorf("%s\ngot:\n%swant:\n%s", firstDifference(got, tc.want), got, tc.want)
			}
		})
	}
}

// firstDifference names the first line where two rule tables differ (the error's first line).
func firstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("rules differ at line %d: got %q, want %q", i+1, gl, wl)
		}
	}
	return "rules differ"
}

func TestFromUnstructuredNetworks(t *testing.T) {
	cases := []struct {
		name, namespace, policyFor string
		want                       []string
	}{
		{"a bare name is in the policy's namespace", "app", "net-a", []string{"app/net-a"}},
		{"namespace/name is kept", "app", "ops/net-x", []string{"ops/net-x"}},
		{"several, spaces and empty items ignored", "ops", " net-a , app/net-b ,,", []string{"ops/net-a", "app/net-b"}},
		{"no annotation: no network", "app", "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := mnp(t, tc.namespace, "p", tc.policyFor, `{"podSelector": {}}`)
			if !reflect.DeepEqual(p.Networks, tc.want) {
				t.Errorf("networks %q, want %q", p.Networks, tc.want)
			}
			if p.Namespace != tc.namespace || p.Name != "p" {
				t.Errorf("decoded as %s/%s, want %s/p", p.Namespace, p.Name, tc.namespace)
			}
		})
	}
}

func TestFromUnstructuredRejectsAnUnreadableSpec(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "k8s.cni.cncf.io/v1beta1", "kind": "MultiNetworkPolicy",
		"metadata": map[string]interface{}{"namespace": "app", "name": "bad"},
		"spec":     map[string]interface{}{"podSelector": "app=web"},
	}}
	if p, err := FromUnstructured(u); err == nil {
		t.Fatalf("decoded a spec whose podSelector is a string: %+v", p)
	}
}

func TestTypes(t *testing.T) {
	cases := []struct {
		name            string
		spec            string
		ingress, egress bool
	}{
		{"no policyTypes, no egress rules: ingress only", `{"podSelector": {}}`, true, false},
		{"no policyTypes, egress rules: both", `{"podSelector": {}, "egress": [{}]}`, true, true},
		{"Egress only", `{"podSelector": {}, "policyTypes": ["Egress"], "ingress": [{}]}`, false, true},
		{"Ingress only", `{"podSelector": {}, "policyTypes": ["Ingress"], "egress": [{}]}`, true, false},
		{"both", `{"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}`, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ing, eg := mnp(t, "app", "p", "net-a", tc.spec).Types()
			if ing != tc.ingress || eg != tc.egress {
				t.Errorf("ingress %v egress %v, want %v %v", ing, eg, tc.ingress, tc.egress)
			}
		})
	}
}
