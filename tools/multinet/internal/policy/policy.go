// Package policy translates MultiNetworkPolicy (k8s.cni.cncf.io/v1beta1) into iptables rules: the filter
// table multinet-policy restores inside one pod's network namespace. Like the Network Plumbing Working
// Group's multi-networkpolicy-iptables, the rules match only the interface attached to the network a
// policy is for (annotation k8s.v1.cni.cncf.io/policy-for). Peers are pods attached to the same network,
// by the addresses their k8s.v1.cni.cncf.io/network-status annotation reports on it.
//
// Everything here is pure (objects in, rule text out); watching the API and running iptables-restore
// stay in cmd/multinet-policy.
package policy

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	mnpv1beta1 "github.com/k8snetworkplumbingwg/multi-networkpolicy/pkg/apis/k8s.cni.cncf.io/v1beta1"
	nadv1 "github.com/k8snetworkplumbingwg/network-attachment-definition-client/pkg/apis/k8s.cni.cncf.io/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"kstack.local/tools/multinet/internal/attach"
)

// PolicyForAnnot names the networks a MultiNetworkPolicy is for, comma-separated, as namespace/name or
// name (in the policy's namespace).
const PolicyForAnnot = "k8s.v1.cni.cncf.io/policy-for"

// EmptyFilter is the filter table of a pod no policy applies to.
const EmptyFilter = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"

// Policy is a MultiNetworkPolicy: a NetworkPolicy spec plus the networks it is for.
type Policy struct {
	Namespace string
	Name      string
	Networks  []string // namespace/name
	Spec      networkingv1.NetworkPolicySpec
}

// FromUnstructured decodes a MultiNetworkPolicy as the dynamic client lists it.
func FromUnstructured(u *unstructured.Unstructured) (*Policy, error) {
	data, err := u.MarshalJSON()
	if err != nil {
		return nil, err
	}
	// Decoded with the working group's own type first: a spec it cannot read is reported, not guessed at.
	var mnp mnpv1beta1.MultiNetworkPolicy
	if err := json.Unmarshal(data, &mnp); err != nil {
		return nil, err
	}
	// The MultiNetworkPolicy spec is the NetworkPolicy spec, field for field.
	specJSON, err := json.Marshal(mnp.Spec)
	if err != nil {
		return nil, err
	}
	p := &Policy{Namespace: mnp.Namespace, Name: mnp.Name}
	if err := json.Unmarshal(specJSON, &p.Spec); err != nil {
		return nil, err
	}
	for _, n := range strings.Split(mnp.Annotations[PolicyForAnnot], ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if !strings.Contains(n, "/") {
			n = p.Namespace + "/" + n
		}
		p.Networks = append(p.Networks, n)
	}
	return p, nil
}

// Types says which directions the policy isolates: ingress always when policyTypes is empty, egress
// then only when it has egress rules (as for NetworkPolicy).
func (p *Policy) Types() (ingress, egress bool) {
	if len(p.Spec.PolicyTypes) == 0 {
		return true, len(p.Spec.Egress) > 0
	}
	for _, t := range p.Spec.PolicyTypes {
		switch t {
		case networkingv1.PolicyTypeIngress:
			ingress = true
		case networkingv1.PolicyTypeEgress:
			egress = true
		}
	}
	return
}

// World is what the rules of a pod are computed from: every pod, namespace and policy of the cluster.
type World struct {
	Pods       []*corev1.Pod
	Namespaces map[string]*corev1.Namespace
	// Policies in namespace/name order, so the same world always renders the same rules.
	Policies []*Policy
}

// NewWorld indexes the namespaces by name and orders the policies by namespace/name.
func NewWorld(pods []*corev1.Pod, namespaces []*corev1.Namespace, policies []*Policy) *World {
	w := &World{Pods: pods, Namespaces: map[string]*corev1.Namespace{}, Policies: policies}
	for _, ns := range namespaces {
		w.Namespaces[ns.Name] = ns
	}
	sort.Slice(w.Policies, func(i, j int) bool {
		return w.Policies[i].Namespace+"/"+w.Policies[i].Name < w.Policies[j].Namespace+"/"+w.Policies[j].Name
	})
	return w
}

func selects(sel *metav1.LabelSelector, l map[string]string) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false
	}
	return s.Matches(labels.Set(l))
}

// networkIPs are the addresses a pod has on a network, from its network-status annotation.
func networkIPs(pod *corev1.Pod, network string) []string {
	raw := pod.Annotations[nadv1.NetworkStatusAnnot]
	if raw == "" {
		return nil
	}
	var statuses []nadv1.NetworkStatus
	if err := json.Unmarshal([]byte(raw), &statuses); err != nil {
		return nil
	}
	var out []string
	for _, s := range statuses {
		if s.Name == network && !s.Default {
			out = append(out, s.IPs...)
		}
	}
	return out
}

// peerPods are the pods a policy peer selects that are attached to the network, with their addresses there.
func (w *World) peerPods(p *Policy, peer networkingv1.NetworkPolicyPeer, network string) []*corev1.Pod {
	var out []*corev1.Pod
	for _, pod := range w.Pods {
		if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed || pod.DeletionTimestamp != nil {
			continue
		}
		if peer.NamespaceSelector == nil {
			if pod.Namespace != p.Namespace {
				continue
			}
		} else {
			ns := w.Namespaces[pod.Namespace]
			if ns == nil || !selects(peer.NamespaceSelector, ns.Labels) {
				continue
			}
		}
		if peer.PodSelector != nil && !selects(peer.PodSelector, pod.Labels) {
			continue
		}
		if len(networkIPs(pod, network)) > 0 {
			out = append(out, pod)
		}
	}
	return out
}

func namedPort(pod *corev1.Pod, name string, proto corev1.Protocol) (int32, bool) {
	for _, c := range pod.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name == name && (cp.Protocol == proto || (cp.Protocol == "" && proto == corev1.ProtocolTCP)) {
				return cp.ContainerPort, true
			}
		}
	}
	return 0, false
}

// portMatches renders the -p/--dport part of each port of a rule; portPod resolves named ports (nil: skip them).
func portMatches(ports []networkingv1.NetworkPolicyPort, portPod *corev1.Pod) []string {
	if len(ports) == 0 {
		return []string{""}
	}
	var out []string
	for _, pp := range ports {
		proto := corev1.ProtocolTCP
		if pp.Protocol != nil {
			proto = *pp.Protocol
		}
		m := "-p " + strings.ToLower(string(proto))
		if pp.Port != nil {
			var port int32
			if pp.Port.Type == intstr.String {
				if portPod == nil {
					continue
				}
				n, ok := namedPort(portPod, pp.Port.StrVal, proto)
				if !ok {
					continue
				}
				port = n
			} else {
				port = pp.Port.IntVal
			}
			if pp.EndPort != nil && pp.Port.Type == intstr.Int {
				m += fmt.Sprintf(" -m %s --dport %d:%d", strings.ToLower(string(proto)), port, *pp.EndPort)
			} else {
				m += fmt.Sprintf(" -m %s --dport %d", strings.ToLower(string(proto)), port)
			}
		}
		out = append(out, m)
	}
	return out
}

func suffix(ip string) string {
	if strings.Contains(ip, "/") {
		return ip
	}
	if strings.Contains(ip, ":") {
		return ip + "/128"
	}
	return ip + "/32"
}

// Rules renders the filter table for one pod's secondary interfaces; "" when no policy applies to it.
func (w *World) Rules(pod *corev1.Pod, attachments []attach.Attachment) string {
	var chains []string
	var lines []string
	for _, att := range attachments {
		var in, out []*Policy
		for _, p := range w.Policies {
			if p.Namespace != pod.Namespace || !contains(p.Networks, att.Network) || !selects(&p.Spec.PodSelector, pod.Labels) {
				continue
			}
			ing, eg := p.Types()
			if ing {
				in = append(in, p)
			}
			if eg {
				out = append(out, p)
			}
		}
		for _, dir := range []struct {
			name     string
			policies []*Policy
			ingress  bool
		}{{"I", in, true}, {"E", out, false}} {
			if len(dir.policies) == 0 {
				continue
			}
			chain := fmt.Sprintf("MNP-%s-%s", dir.name, att.IfName)
			chains = append(chains, chain)
			addr, ifFlag, hook := "-s", "-i", "INPUT"
			if !dir.ingress {
				addr, ifFlag, hook = "-d", "-o", "OUTPUT"
			}
			lines = append(lines, fmt.Sprintf("-A %s %s %s -j %s", hook, ifFlag, att.IfName, chain))
			lines = append(lines, fmt.Sprintf("-A %s -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT", chain))
			n := 0
			for _, p := range dir.policies {
				type rule struct {
					peers []networkingv1.NetworkPolicyPeer
					ports []networkingv1.NetworkPolicyPort
				}
				var rs []rule
				if dir.ingress {
					for _, r := range p.Spec.Ingress {
						rs = append(rs, rule{r.From, r.Ports})
					}
				} else {
					for _, r := range p.Spec.Egress {
						rs = append(rs, rule{r.To, r.Ports})
					}
				}
				for _, r := range rs {
					if len(r.peers) == 0 {
						var portPod *corev1.Pod
						if dir.ingress {
							portPod = pod
						}
						for _, m := range portMatches(r.ports, portPod) {
							lines = append(lines, strings.TrimSpace(fmt.Sprintf("-A %s %s -j ACCEPT", chain, m)))
						}
						continue
					}
					for _, peer := range r.peers {
						if peer.IPBlock != nil {
							target := "ACCEPT"
							if len(peer.IPBlock.Except) > 0 {
								n++
								target = fmt.Sprintf("%s-%d", chain, n)
								chains = append(chains, target)
								for _, e := range peer.IPBlock.Except {
									lines = append(lines, fmt.Sprintf("-A %s %s %s -j RETURN", target, addr, e))
								}
								lines = append(lines, fmt.Sprintf("-A %s -j ACCEPT", target))
							}
							var portPod *corev1.Pod
							if dir.ingress {
								portPod = pod
							}
							for _, m := range portMatches(r.ports, portPod) {
								lines = append(lines, fmt.Sprintf("-A %s %s %s %s -j %s", chain, addr, peer.IPBlock.CIDR, m, target))
							}
							continue
						}
						for _, peerPod := range w.peerPods(p, peer, att.Network) {
							portPod := pod
							if !dir.ingress {
								portPod = peerPod
							}
							for _, ip := range networkIPs(peerPod, att.Network) {
								for _, m := range portMatches(r.ports, portPod) {
									lines = append(lines, fmt.Sprintf("-A %s %s %s %s -j ACCEPT", chain, addr, suffix(ip), m))
								}
							}
						}
					}
				}
			}
			lines = append(lines, fmt.Sprintf("-A %s -j DROP", chain))
		}
	}
	if len(lines) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n")
	for _, c := range chains {
		fmt.Fprintf(&b, ":%s - [0:0]\n", c)
	}
	for _, l := range lines {
		b.WriteString(strings.Join(strings.Fields(l), " ") + "\n")
	}
	b.WriteString("COMMIT\n")
	return b.String()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
