// multinet is kstack's thin CNI meta-plugin: it attaches every pod to the default network (the
// delegate conflist embedded in its configuration) and then to each network the pod asks for in its
// k8s.v1.cni.cncf.io/networks annotation (NetworkAttachmentDefinitions), and publishes the result in the
// k8s.v1.cni.cncf.io/network-status annotation, as the Network Plumbing Working Group specification says.
// Annotation parsing, CNI config extraction and network-status building come from the working group's
// reference library (network-attachment-definition-client); invoking plugins comes from libcni.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/skel"
	cnitypes "github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"
	nadv1 "github.com/k8snetworkplumbingwg/network-attachment-definition-client/pkg/apis/k8s.cni.cncf.io/v1"
	nadutils "github.com/k8snetworkplumbingwg/network-attachment-definition-client/pkg/utils"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"kstack.local/tools/multinet/internal/attach"
)

// Conf is multinet's own CNI configuration.
type Conf struct {
	cnitypes.NetConf
	Kubeconfig     string          `json:"kubeconfig"`
	DefaultNetwork json.RawMessage `json:"defaultNetwork"`
	BinDir         string          `json:"binDir"`
	CacheDir       string          `json:"cacheDir"`
	StateDir       string          `json:"stateDir"`
	LogFile        string          `json:"logFile"`
	// WhereaboutsConfig is the node's whereabouts flat file (its kubeconfig): given as configuration_path
	// to whereabouts IPAM in attachments that name none, so NADs need no node-specific path.
	WhereaboutsConfig string                 `json:"whereaboutsConfig"`
	RuntimeConfig     map[string]interface{} `json:"runtimeConfig,omitempty"`
}

var nadGVR = schema.GroupVersionResource{Group: "k8s.cni.cncf.io", Version: "v1", Resource: "network-attachment-definitions"}

func loadConf(args *skel.CmdArgs) (*Conf, error) {
	var c Conf
	if err := json.Unmarshal(args.StdinData, &c); err != nil {
		return nil, fmt.Errorf("multinet: bad configuration: %w", err)
	}
	for field, v := range map[string]string{"kubeconfig": c.Kubeconfig, "binDir": c.BinDir, "cacheDir": c.CacheDir, "stateDir": c.StateDir} {
		if v == "" {
			return nil, fmt.Errorf("multinet: configuration field %q is required", field)
		}
	}
	if len(c.DefaultNetwork) == 0 {
		return nil, fmt.Errorf("multinet: configuration field \"defaultNetwork\" (a CNI conflist) is required")
	}
	if c.LogFile != "" {
		if f, err := os.OpenFile(c.LogFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600); err == nil {
			log.SetOutput(f)
		}
	}
	return &c, nil
}

// podArgs are the K8S_POD_* values the runtime passes in CNI_ARGS.
type podArgs struct{ namespace, name, uid string }

func parseArgs(s string) (podArgs, [][2]string) {
	var p podArgs
	var pairs [][2]string
	for _, kv := range strings.Split(s, ";") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		pairs = append(pairs, [2]string{k, v})
		switch k {
		case "K8S_POD_NAMESPACE":
			p.namespace = v
		case "K8S_POD_NAME":
			p.name = v
		case "K8S_POD_UID":
			p.uid = v
		}
	}
	return p, pairs
}

// asConfList accepts a conflist or a single plugin configuration (which it wraps into a list).
func asConfList(raw []byte, name string) (*libcni.NetworkConfigList, []byte, error) {
	var probe map[string]interface{}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, nil, fmt.Errorf("not JSON: %w", err)
	}
	if _, ok := probe["plugins"]; !ok {
		version, _ := probe["cniVersion"].(string)
		if _, ok := probe["name"]; !ok {
			probe["name"] = name
		}
		wrapped, err := json.Marshal(map[string]interface{}{"cniVersion": version, "name": probe["name"], "plugins": []interface{}{probe}})
		if err != nil {
			return nil, nil, err
		}
		raw = wrapped
	}
	list, err := libcni.ConfListFromBytes(raw)
	return list, raw, err
}

// withWhereaboutsConfig sets configuration_path for whereabouts IPAM that names none, in a plugin
// configuration or in every plugin of a list.
func withWhereaboutsConfig(raw []byte, path string) ([]byte, error) {
	if path == "" {
		return raw, nil
	}
	var conf map[string]interface{}
	if err := json.Unmarshal(raw, &conf); err != nil {
		return nil, err
	}
	fill := func(plugin map[string]interface{}) {
		ipam, ok := plugin["ipam"].(map[string]interface{})
		if !ok || ipam["type"] != "whereabouts" || ipam["configuration_path"] != nil {
			return
		}
		ipam["configuration_path"] = path
	}
	if plugins, ok := conf["plugins"].([]interface{}); ok {
		for _, pl := range plugins {
			if m, ok := pl.(map[string]interface{}); ok {
				fill(m)
			}
		}
	} else {
		fill(conf)
	}
	return json.Marshal(conf)
}

type plugin struct {
	conf    *Conf
	cni     *libcni.CNIConfig
	args    *skel.CmdArgs
	pod     podArgs
	cniArgs [][2]string
}

func newPlugin(args *skel.CmdArgs) (*plugin, error) {
	conf, err := loadConf(args)
	if err != nil {
		return nil, err
	}
	pod, pairs := parseArgs(args.Args)
	return &plugin{conf: conf, cni: libcni.NewCNIConfigWithCacheDir([]string{conf.BinDir}, conf.CacheDir, nil), args: args, pod: pod, cniArgs: pairs}, nil
}

func (p *plugin) rt(ifName string, capabilityArgs map[string]interface{}) *libcni.RuntimeConf {
	return &libcni.RuntimeConf{ContainerID: p.args.ContainerID, NetNS: p.args.Netns, IfName: ifName, Args: p.cniArgs, CapabilityArgs: capabilityArgs}
}

func clients(kubeconfig string) (kubernetes.Interface, dynamic.Interface, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, nil, err
	}
	cfg.Timeout = 20 * time.Second
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	return cs, dyn, err
}

func getPod(ctx context.Context, cs kubernetes.Interface, pa podArgs) (*corev1.Pod, error) {
	var lastErr error
	for i := 0; i < 20; i++ {
		pod, err := cs.CoreV1().Pods(pa.namespace).Get(ctx, pa.name, metav1.GetOptions{})
		if err == nil {
			return pod, nil
		}
		lastErr = err
		time.Sleep(250 * time.Millisecond)
	}
	return nil, lastErr
}

func getNAD(ctx context.Context, dyn dynamic.Interface, namespace, name string) (*nadv1.NetworkAttachmentDefinition, error) {
	u, err := dyn.Resource(nadGVR).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	var nad nadv1.NetworkAttachmentDefinition
	if err := runtimeFromUnstructured(u, &nad); err != nil {
		return nil, err
	}
	return &nad, nil
}

func runtimeFromUnstructured(u *unstructured.Unstructured, out interface{}) error {
	data, err := u.MarshalJSON()
	if err != nil {
		return err
	}
	return json.Unmarshal(data, out)
}

func cmdAdd(args *skel.CmdArgs) error {
	p, err := newPlugin(args)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	defaultList, _, err := asConfList(p.conf.DefaultNetwork, "default")
	if err != nil {
		return fmt.Errorf("multinet: defaultNetwork: %w", err)
	}
	defaultResult, err := p.cni.AddNetworkList(ctx, defaultList, p.rt(args.IfName, p.conf.RuntimeConfig))
	if err != nil {
		return fmt.Errorf("multinet: default network %q: %w", defaultList.Name, err)
	}

	sandbox := attach.Sandbox{ContainerID: args.ContainerID, Namespace: p.pod.namespace, Name: p.pod.name, UID: p.pod.uid, NetNS: args.Netns}
	if p.pod.name != "" {
		if err := p.addSecondaries(ctx, defaultResult, defaultList.Name, &sandbox); err != nil {
			log.Printf("ADD %s/%s failed: %v", p.pod.namespace, p.pod.name, err)
			p.delSecondaries(ctx, sandbox.Attachments)
			_ = p.cni.DelNetworkList(ctx, defaultList, p.rt(args.IfName, p.conf.RuntimeConfig))
			return err
		}
	}
	if err := attach.Write(p.conf.StateDir, sandbox); err != nil {
		return fmt.Errorf("multinet: state: %w", err)
	}
	converted, err := defaultResult.GetAsVersion(p.conf.CNIVersion)
	if err != nil {
		return err
	}
	return cnitypes.PrintResult(converted, p.conf.CNIVersion)
}

func (p *plugin) addSecondaries(ctx context.Context, defaultResult cnitypes.Result, defaultName string, sandbox *attach.Sandbox) error {
	cs, dyn, err := clients(p.conf.Kubeconfig)
	if err != nil {
		return fmt.Errorf("multinet: kubeconfig %s: %w", p.conf.Kubeconfig, err)
	}
	pod, err := getPod(ctx, cs, p.pod)
	if err != nil {
		return fmt.Errorf("multinet: pod %s/%s: %w", p.pod.namespace, p.pod.name, err)
	}
	if p.pod.uid != "" && string(pod.UID) != p.pod.uid {
		return fmt.Errorf("multinet: pod %s/%s has UID %s, the runtime asked for %s", pod.Namespace, pod.Name, pod.UID, p.pod.uid)
	}
	elements, err := nadutils.ParsePodNetworkAnnotation(pod)
	if err != nil {
		// No annotation is not an error: the pod is on the default network only.
		if _, ok := pod.Annotations[nadv1.NetworkAttachmentAnnot]; ok {
			return fmt.Errorf("multinet: pod %s/%s: %w", pod.Namespace, pod.Name, err)
		}
		elements = nil
	}
	statuses := []nadv1.NetworkStatus{}
	defStatuses, err := nadutils.CreateNetworkStatuses(defaultResult, defaultName, true, nil)
	if err != nil {
		return err
	}
	for _, s := range defStatuses {
		statuses = append(statuses, *s)
	}
	for i, el := range elements {
		ifName := el.InterfaceRequest
		if ifName == "" {
			ifName = fmt.Sprintf("net%d", i+1)
		}
		nad, err := getNAD(ctx, dyn, el.Namespace, el.Name)
		if err != nil {
			return fmt.Errorf("multinet: pod %s/%s asks for network %s/%s: %w", pod.Namespace, pod.Name, el.Namespace, el.Name, err)
		}
		raw, err := nadutils.GetCNIConfig(nad, "")
		if err != nil {
			return fmt.Errorf("multinet: network %s/%s: %w", el.Namespace, el.Name, err)
		}
		raw, err = withWhereaboutsConfig(raw, p.conf.WhereaboutsConfig)
		if err != nil {
			return fmt.Errorf("multinet: network %s/%s: %w", el.Namespace, el.Name, err)
		}
		list, listBytes, err := asConfList(raw, nad.Name)
		if err != nil {
			return fmt.Errorf("multinet: network %s/%s: %w", el.Namespace, el.Name, err)
		}
		network := el.Namespace + "/" + el.Name
		att := attach.Attachment{Network: network, IfName: ifName, Config: listBytes}
		caps := map[string]interface{}{}
		if len(el.IPRequest) > 0 {
			caps["ips"] = el.IPRequest
		}
		if el.MacRequest != "" {
			caps["mac"] = el.MacRequest
		}
		res, err := p.cni.AddNetworkList(ctx, list, p.rt(ifName, caps))
		if err != nil {
			return fmt.Errorf("multinet: attaching %s as %s: %w", network, ifName, err)
		}
		ns, err := nadutils.CreateNetworkStatuses(res, network, false, nil)
		if err != nil {
			return err
		}
		for _, s := range ns {
			statuses = append(statuses, *s)
			att.IPs = append(att.IPs, s.IPs...)
		}
		sandbox.Attachments = append(sandbox.Attachments, att)
		log.Printf("ADD %s/%s: %s as %s with %v", pod.Namespace, pod.Name, network, ifName, att.IPs)
	}
	if len(elements) == 0 {
		// Pods without secondary networks keep their annotations exactly as without multinet.
		return nil
	}
	if err := nadutils.SetNetworkStatus(cs, pod, statuses); err != nil {
		return fmt.Errorf("multinet: %w", err)
	}
	return nil
}

func (p *plugin) delSecondaries(ctx context.Context, atts []attach.Attachment) {
	for i := len(atts) - 1; i >= 0; i-- {
		a := atts[i]
		list, _, err := asConfList(a.Config, a.Network)
		if err != nil {
			log.Printf("DEL %s: %v", a.Network, err)
			continue
		}
		if err := p.cni.DelNetworkList(ctx, list, p.rt(a.IfName, nil)); err != nil {
			log.Printf("DEL %s (%s): %v", a.Network, a.IfName, err)
		}
	}
}

func cmdDel(args *skel.CmdArgs) error {
	p, err := newPlugin(args)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sandbox, err := attach.Read(p.conf.StateDir, args.ContainerID)
	if err != nil {
		log.Printf("DEL %s: %v", args.ContainerID, err)
	}
	if sandbox != nil {
		p.delSecondaries(ctx, sandbox.Attachments)
	}
	defaultList, _, err := asConfList(p.conf.DefaultNetwork, "default")
	if err != nil {
		return fmt.Errorf("multinet: defaultNetwork: %w", err)
	}
	if err := p.cni.DelNetworkList(ctx, defaultList, p.rt(args.IfName, p.conf.RuntimeConfig)); err != nil {
		return fmt.Errorf("multinet: default network DEL: %w", err)
	}
	return attach.Remove(p.conf.StateDir, args.ContainerID)
}

func cmdCheck(args *skel.CmdArgs) error {
	_, err := newPlugin(args)
	return err
}

func main() {
	skel.PluginMainFuncs(skel.CNIFuncs{Add: cmdAdd, Del: cmdDel, Check: cmdCheck}, version.All, "kstack multinet meta-plugin")
}
