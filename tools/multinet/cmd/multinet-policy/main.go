// multinet-policy enforces MultiNetworkPolicy (k8s.cni.cncf.io/v1beta1) on the secondary interfaces of
// the pods of one node. Like the Network Plumbing Working Group's multi-networkpolicy-iptables, it
// writes iptables rules inside each pod's network namespace, matching only the interface attached to the
// network the policy is for (annotation k8s.v1.cni.cncf.io/policy-for). Peers are pods attached to the
// same network, by the addresses their k8s.v1.cni.cncf.io/network-status annotation reports on it.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"

	mnpv1beta1 "github.com/k8snetworkplumbingwg/multi-networkpolicy/pkg/apis/k8s.cni.cncf.io/v1beta1"
	nadv1 "github.com/k8snetworkplumbingwg/network-attachment-definition-client/pkg/apis/k8s.cni.cncf.io/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"kstack.local/tools/multinet/internal/attach"
)

const policyForAnnot = "k8s.v1.cni.cncf.io/policy-for"

var mnpGVR = schema.GroupVersionResource{Group: "k8s.cni.cncf.io", Version: "v1beta1", Resource: "multi-networkpolicies"}

// policy is a MultiNetworkPolicy: a NetworkPolicy spec plus the networks it is for.
type policy struct {
	Namespace string
	Name      string
	Networks  []string // namespace/name
	Spec      networkingv1.NetworkPolicySpec
}

func policyFrom(u *unstructured.Unstructured) (*policy, error) {
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
	p := &policy{Namespace: mnp.Namespace, Name: mnp.Name}
	if err := json.Unmarshal(specJSON, &p.Spec); err != nil {
		return nil, err
	}
	for _, n := range strings.Split(mnp.Annotations[policyForAnnot], ",") {
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

func (p *policy) types() (ingress, egress bool) {
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

type world struct {
	pods       []*corev1.Pod
	namespaces map[string]*corev1.Namespace
	policies   []*policy
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
func (w *world) peerPods(p *policy, peer networkingv1.NetworkPolicyPeer, network string) []*corev1.Pod {
	var out []*corev1.Pod
	for _, pod := range w.pods {
		if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed || pod.DeletionTimestamp != nil {
			continue
		}
		if peer.NamespaceSelector == nil {
			if pod.Namespace != p.Namespace {
				continue
			}
		} else {
			ns := w.namespaces[pod.Namespace]
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

// rules renders the filter table for one pod's sandbox; "" when no policy applies to it.
func (w *world) rules(pod *corev1.Pod, sb attach.Sandbox) string {
	var chains []string
	var lines []string
	for _, att := range sb.Attachments {
		var in, out []*policy
		for _, p := range w.policies {
			if p.Namespace != pod.Namespace || !contains(p.Networks, att.Network) || !selects(&p.Spec.PodSelector, pod.Labels) {
				continue
			}
			ing, eg := p.types()
			if ing {
				in = append(in, p)
			}
			if eg {
				out = append(out, p)
			}
		}
		for _, dir := range []struct {
			name     string
			policies []*policy
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

const emptyFilter = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"

func restore(netns, rules string) error {
	cmd := exec.Command("nsenter", "--net="+netns, "--", "iptables-restore", "-w", "5")
	cmd.Stdin = strings.NewReader(rules)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("iptables-restore in %s: %v: %s", netns, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the agent")
	node := flag.String("hostname-override", "", "name of this node")
	stateDir := flag.String("state-dir", "", "where the multinet CNI plugin records the sandboxes of this node")
	flag.Parse()
	if *kubeconfig == "" || *node == "" || *stateDir == "" {
		fmt.Fprintln(os.Stderr, "multinet-policy: --kubeconfig, --hostname-override and --state-dir are required")
		os.Exit(2)
	}
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		log.Fatalf("kubeconfig: %v", err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	dyn := dynamic.NewForConfigOrDie(cfg)
	factory := informers.NewSharedInformerFactory(cs, 0)
	podInf := factory.Core().V1().Pods()
	nsInf := factory.Core().V1().Namespaces()
	dynFactory := dynamicinformer.NewDynamicSharedInformerFactory(dyn, 0)
	mnpInf := dynFactory.ForResource(mnpGVR)

	trigger := make(chan struct{}, 1)
	poke := func() {
		select {
		case trigger <- struct{}{}:
		default:
		}
	}
	handler := cache.ResourceEventHandlerFuncs{AddFunc: func(interface{}) { poke() }, UpdateFunc: func(interface{}, interface{}) { poke() }, DeleteFunc: func(interface{}) { poke() }}
	for _, inf := range []cache.SharedIndexInformer{podInf.Informer(), nsInf.Informer(), mnpInf.Informer()} {
		if _, err := inf.AddEventHandler(handler); err != nil {
			log.Fatalf("informer: %v", err)
		}
	}
	ctx := context.Background()
	factory.Start(ctx.Done())
	dynFactory.Start(ctx.Done())
	for _, inf := range []cache.SharedIndexInformer{podInf.Informer(), nsInf.Informer(), mnpInf.Informer()} {
		if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
			log.Fatal("caches did not sync")
		}
	}
	log.Printf("multinet-policy on node %s: caches synced, enforcing", *node)

	applied := map[string]string{} // netns → rules in force
	ticker := time.NewTicker(time.Second)
	for {
		sync(podInf.Lister(), nsInf.Lister(), mnpInf.Lister(), *node, *stateDir, applied)
		select {
		case <-trigger:
			time.Sleep(100 * time.Millisecond) // let a burst of events settle
		case <-ticker.C:
		}
	}
}

func sync(podL corelisters.PodLister, nsL corelisters.NamespaceLister, mnpL cache.GenericLister, node, stateDir string, applied map[string]string) {
	pods, err := podL.List(labels.Everything())
	if err != nil {
		log.Printf("pods: %v", err)
		return
	}
	nss, _ := nsL.List(labels.Everything())
	objs, _ := mnpL.List(labels.Everything())
	w := &world{pods: pods, namespaces: map[string]*corev1.Namespace{}}
	for _, ns := range nss {
		w.namespaces[ns.Name] = ns
	}
	for _, o := range objs {
		u, ok := o.(*unstructured.Unstructured)
		if !ok {
			continue
		}
		p, err := policyFrom(u)
		if err != nil {
			log.Printf("MultiNetworkPolicy %s/%s: %v", u.GetNamespace(), u.GetName(), err)
			continue
		}
		w.policies = append(w.policies, p)
	}
	sort.Slice(w.policies, func(i, j int) bool {
		return w.policies[i].Namespace+"/"+w.policies[i].Name < w.policies[j].Namespace+"/"+w.policies[j].Name
	})
	byUID := map[string]*corev1.Pod{}
	for _, p := range pods {
		if p.Spec.NodeName == node {
			byUID[string(p.UID)] = p
		}
	}
	sandboxes, err := attach.List(stateDir)
	if err != nil {
		log.Printf("state: %v", err)
		return
	}
	seen := map[string]bool{}
	for _, sb := range sandboxes {
		if len(sb.Attachments) == 0 {
			continue
		}
		pod := byUID[sb.UID]
		if pod == nil {
			continue
		}
		seen[sb.NetNS] = true
		rules := w.rules(pod, sb)
		if rules == "" {
			rules = emptyFilter
		}
		if applied[sb.NetNS] == rules {
			continue
		}
		if err := restore(sb.NetNS, rules); err != nil {
			log.Printf("pod %s/%s: %v", pod.Namespace, pod.Name, err)
			continue
		}
		applied[sb.NetNS] = rules
		log.Printf("pod %s/%s: %d rule lines in force", pod.Namespace, pod.Name, strings.Count(rules, "\n-A "))
	}
	for netns := range applied {
		if !seen[netns] {
			delete(applied, netns)
		}
	}
}
