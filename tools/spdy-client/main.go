// trellis-spdy-client drives a pod's exec and port-forward subresources with client-go's SPDY
// implementation (remotecommand.NewSPDYExecutor, portforward over spdy.RoundTripperFor), so the
// local cluster's kubelet streaming API is tested against the upstream client code. Usage:
//
//	trellis-spdy-client exec --kubeconfig K -n NS --pod P [-c C] [--stdin] [--tty --size WxH --resize WxH] -- CMD...
//	trellis-spdy-client port-forward --kubeconfig K -n NS --pod P PORT...
//
// exec copies stdin/stdout/stderr and exits with the remote command's exit code. port-forward
// listens on 127.0.0.1 (random local ports), prints "ready LOCAL REMOTE" per port and forwards
// until its stdin is closed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"
	utilexec "k8s.io/client-go/util/exec"
)

func main() {
	if len(os.Args) < 2 {
		fail(2, "usage: trellis-spdy-client exec|port-forward [flags]")
	}
	var err error
	switch os.Args[1] {
	case "exec":
		err = execCmd(os.Args[2:])
	case "port-forward":
		err = portForwardCmd(os.Args[2:])
	default:
		fail(2, "unknown command %q: want exec or port-forward", os.Args[1])
	}
	var exit utilexec.CodeExitError
	if errors.As(err, &exit) {
		os.Exit(exit.Code)
	}
	if err != nil {
		fail(1, "%v", err)
	}
}

func fail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "trellis-spdy-client: "+format+"\n", args...)
	os.Exit(code)
}

type common struct {
	kubeconfig, namespace, pod string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.kubeconfig, "kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig file")
	fs.StringVar(&c.namespace, "n", "default", "namespace")
	fs.StringVar(&c.pod, "pod", "", "pod name")
}

func (c *common) config() (*rest.Config, *kubernetes.Clientset, error) {
	if c.pod == "" {
		return nil, nil, errors.New("--pod is required")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", c.kubeconfig)
	if err != nil {
		return nil, nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	return cfg, cs, err
}

type sizes struct{ list []remotecommand.TerminalSize }

func (s *sizes) Next() *remotecommand.TerminalSize {
	if len(s.list) == 0 {
		return nil
	}
	n := s.list[0]
	s.list = s.list[1:]
	return &n
}

func parseSize(v string) (remotecommand.TerminalSize, error) {
	w, h, ok := strings.Cut(v, "x")
	wi, err1 := strconv.Atoi(w)
	hi, err2 := strconv.Atoi(h)
	if !ok || err1 != nil || err2 != nil {
		return remotecommand.TerminalSize{}, fmt.Errorf("size %q: want WIDTHxHEIGHT", v)
	}
	return remotecommand.TerminalSize{Width: uint16(wi), Height: uint16(hi)}, nil
}

func execCmd(args []string) error {
	fs := flag.NewFlagSet("exec", flag.ExitOnError)
	var c common
	c.register(fs)
	container := fs.String("c", "", "container")
	stdin := fs.Bool("stdin", false, "pass stdin")
	tty := fs.Bool("tty", false, "allocate a TTY")
	size := fs.String("size", "", "initial terminal size WxH (with --tty)")
	resize := fs.String("resize", "", "a later terminal size WxH (with --tty)")
	_ = fs.Parse(args)
	command := fs.Args()
	if len(command) == 0 {
		return errors.New("exec needs a command after --")
	}
	cfg, cs, err := c.config()
	if err != nil {
		return err
	}
	req := cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(c.namespace).Name(c.pod).
		SubResource("exec").VersionedParams(&corev1.PodExecOptions{
		Container: *container,
		Command:   command,
		Stdin:     *stdin,
		Stdout:    true,
		Stderr:    !*tty,
		TTY:       *tty,
	}, scheme.ParameterCodec)
	executor, err := remotecommand.NewSPDYExecutor(cfg, "POST", req.URL())
	if err != nil {
		return err
	}
	opts := remotecommand.StreamOptions{Stdout: os.Stdout, Tty: *tty}
	if *stdin {
		opts.Stdin = os.Stdin
	}
	if !*tty {
		opts.Stderr = os.Stderr
	}
	if *tty {
		q := &sizes{}
		for _, v := range []string{*size, *resize} {
			if v != "" {
				s, err := parseSize(v)
				if err != nil {
					return err
				}
				q.list = append(q.list, s)
			}
		}
		opts.TerminalSizeQueue = q
	}
	return executor.StreamWithContext(context.Background(), opts)
}

func portForwardCmd(args []string) error {
	fs := flag.NewFlagSet("port-forward", flag.ExitOnError)
	var c common
	c.register(fs)
	_ = fs.Parse(args)
	if fs.NArg() == 0 {
		return errors.New("port-forward needs at least one pod port")
	}
	var ports []string
	for _, p := range fs.Args() {
		ports = append(ports, "0:"+p)
	}
	cfg, _, err := c.config()
	if err != nil {
		return err
	}
	transport, upgrader, err := spdy.RoundTripperFor(cfg)
	if err != nil {
		return err
	}
	u, err := url.Parse(strings.TrimRight(cfg.Host, "/") +
		fmt.Sprintf("/api/v1/namespaces/%s/pods/%s/portforward", c.namespace, c.pod))
	if err != nil {
		return err
	}
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, "POST", u)
	stop := make(chan struct{})
	ready := make(chan struct{})
	fw, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, ports, stop, ready, os.Stderr, os.Stderr)
	if err != nil {
		return err
	}
	go func() {
		<-ready
		got, err := fw.GetPorts()
		if err != nil {
			fail(1, "%v", err)
		}
		for _, p := range got {
			fmt.Printf("ready %d %d\n", p.Local, p.Remote)
		}
		buf := make([]byte, 512)
		for {
			if _, err := os.Stdin.Read(buf); err != nil {
				close(stop)
				return
			}
		}
	}()
	return fw.ForwardPorts()
}
