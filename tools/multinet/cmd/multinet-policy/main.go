// multinet-policy enforces MultiNetworkPolicy (k8s.cni.cncf.io/v1beta1) on the secondary interfaces of
// the pods of one node. Like the Network Plumbing Working Group's multi-networkpolicy-iptables, it
// writes iptables rules inside each pod's network namespace, matching only the interface attached to the
// network the policy is for (annotation k8s.v1.cni.cncf.io/policy-for). Peers are pods attached to the
// same network, by the addresses their k8s.v1.cni.cncf.io/network-status annotation reports on it.
//
// This file is the I/O edge: it watches pods, namespaces and policies, reads the sandboxes the multinet
// CNI plugin recorded on this node, and runs iptables-restore. The translation of policies into rules is
// package internal/policy, which has the tests.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"kstack.local/tools/multinet/internal/attach"
	"kstack.local/tools/multinet/internal/policy"
)

var mnpGVR = schema.GroupVersionResource{Group: "k8s.cni.cncf.io", Version: "v1beta1", Resource: "multi-networkpolicies"}

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
	var policies []*policy.Policy
	for _, o := range objs {
		u, ok := o.(*unstructured.Unstructured)
		if !ok {
			continue
		}
		p, err := policy.FromUnstructured(u)
		if err != nil {
			log.Printf("MultiNetworkPolicy %s/%s: %v", u.GetNamespace(), u.GetName(), err)
			continue
		}
		policies = append(policies, p)
	}
	w := policy.NewWorld(pods, nss, policies)
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
		rules := w.Rules(pod, sb.Attachments)
		if rules == "" {
			rules = policy.EmptyFilter
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
