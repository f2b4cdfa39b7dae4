// Package attach is the record the multinet CNI plugin keeps of each pod sandbox it attached, and that
// multinet-policy reads to find the pods of its node, their network namespaces and secondary interfaces.
package attach

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Attachment is one secondary interface of a pod.
type Attachment struct {
	// Network is the NetworkAttachmentDefinition as namespace/name.
	Network string   `json:"network"`
	IfName  string   `json:"ifName"`
	IPs     []string `json:"ips"`
	// Config is the CNI configuration list used for ADD, so DEL works after the NAD is deleted.
	Config json.RawMessage `json:"config"`
}

// Sandbox is one pod sandbox attached on this node.
type Sandbox struct {
	ContainerID string       `json:"containerID"`
	Namespace   string       `json:"namespace"`
	Name        string       `json:"name"`
	UID         string       `json:"uid"`
	NetNS       string       `json:"netns"`
	Attachments []Attachment `json:"attachments"`
}

func path(dir, containerID string) string {
	return filepath.Join(dir, containerID+".json")
}

// Write stores a sandbox record atomically.
func Write(dir string, s Sandbox) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := path(dir, s.ContainerID) + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path(dir, s.ContainerID))
}

// Read returns the record of one sandbox, or nil if there is none.
func Read(dir, containerID string) (*Sandbox, error) {
	data, err := os.ReadFile(path(dir, containerID))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s Sandbox
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path(dir, containerID), err)
	}
	return &s, nil
}

// Remove deletes the record of one sandbox (a missing one is fine).
func Remove(dir, containerID string) error {
	err := os.Remove(path(dir, containerID))
	if os.IsNotExist(err) {
		return nil
	}
	return err
}

// List returns every sandbox record in dir whose network namespace still exists.
func List(dir string) ([]Sandbox, error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Sandbox
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		s, err := Read(dir, strings.TrimSuffix(e.Name(), ".json"))
		if err != nil || s == nil {
			continue
		}
		if _, err := os.Stat(s.NetNS); err != nil {
			continue
		}
		out = append(out, *s)
	}
	return out, nil
}
