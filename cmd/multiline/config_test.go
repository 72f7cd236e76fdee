package main

import (
	"errors"
	"strings"
	"testing"
)

func prodEnv() map[string]string {
	return map[string]string{
		"MicrosoftAppId":         "0b5d3c1e-6f2a-4e57-9d1c-2a3b4c5d6e7f",
		"MicrosoftAppPassword":   "s3cr3t-password-value",
		"MicrosoftAppTenantId":   "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
		"MULTILINE_PUBLIC_URL":   "https://multiline.example.com",
		"WECOM_CORP_ID":          "ww0123456789",
		"WECOM_KF_SECRET":        "kf-secret-value",
		"WECOM_CALLBACK_TOKEN":   "callback-token-value",
		"WECOM_ENCODING_AES_KEY": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
	}
}

func TestLoadConfig(t *testing.T) {
	cases := []struct {
		name    string
		change  map[string]string
		dev     bool
		setting string // "" means valid
	}{
		{name: "valid production", change: nil},
		{name: "local mode needs nothing", change: map[string]string{"MicrosoftAppId": "", "MicrosoftAppPassword": "", "MicrosoftAppTenantId": "", "MULTILINE_PUBLIC_URL": "", "WECOM_CORP_ID": "", "WECOM_KF_SECRET": "", "WECOM_CALLBACK_TOKEN": "", "WECOM_ENCODING_AES_KEY": ""}, dev: true},
		{name: "app id missing", change: map[string]string{"MicrosoftAppId": ""}, setting: "MicrosoftAppId"},
		{name: "app id not a GUID", change: map[string]string{"MicrosoftAppId": "my-bot"}, setting: "MicrosoftAppId"},
		{name: "password missing", change: map[string]string{"MicrosoftAppPassword": ""}, setting: "MicrosoftAppPassword"},
		{name: "managed identity needs no password", change: map[string]string{"MicrosoftAppPassword": "", "MicrosoftAppType": "UserAssignedMSI"}},
		{name: "tenant missing", change: map[string]string{"MicrosoftAppTenantId": ""}, setting: "MicrosoftAppTenantId"},
		{name: "tenant malformed", change: map[string]string{"MicrosoftAppTenantId": "contoso"}, setting: "MicrosoftAppTenantId"},
		{name: "app type unknown", change: map[string]string{"MicrosoftAppType": "Single"}, setting: "MicrosoftAppType"},
		{name: "database url", change: map[string]string{"MULTILINE_DATABASE_URL": "mysql://x"}, setting: "MULTILINE_DATABASE_URL"},
		{name: "addr", change: map[string]string{"MULTILINE_ADDR": "3978"}, setting: "MULTILINE_ADDR"},
		{name: "public url missing", change: map[string]string{"MULTILINE_PUBLIC_URL": ""}, setting: "MULTILINE_PUBLIC_URL"},
		{name: "public url not https", change: map[string]string{"MULTILINE_PUBLIC_URL": "http://multiline.example.com"}, setting: "MULTILINE_PUBLIC_URL"},
		{name: "mode", change: map[string]string{"WECHAT_MODE": "wework"}, setting: "WECHAT_MODE"},
		{name: "corp id", change: map[string]string{"WECOM_CORP_ID": ""}, setting: "WECOM_CORP_ID"},
		{name: "kf secret", change: map[string]string{"WECOM_KF_SECRET": ""}, setting: "WECOM_KF_SECRET"},
		{name: "callback token", change: map[string]string{"WECOM_CALLBACK_TOKEN": ""}, setting: "WECOM_CALLBACK_TOKEN"},
		{name: "aes key short", change: map[string]string{"WECOM_ENCODING_AES_KEY": "abc"}, setting: "WECOM_ENCODING_AES_KEY"},
		{name: "aes key not base64", change: map[string]string{"WECOM_ENCODING_AES_KEY": strings.Repeat("!", 43)}, setting: "WECOM_ENCODING_AES_KEY"},
		{name: "api base", change: map[string]string{"WECOM_API_BASE": "qyapi"}, setting: "WECOM_API_BASE"},
		{name: "official account needs app id", change: map[string]string{"WECHAT_MODE": "official-account", "WECHAT_APP_SECRET": "x", "WECHAT_TOKEN": "y"}, setting: "WECHAT_APP_ID"},
		{name: "official account plaintext mode", change: map[string]string{"WECHAT_MODE": "official-account", "WECHAT_APP_ID": "wx1", "WECHAT_APP_SECRET": "x", "WECHAT_TOKEN": "y"}},
		{name: "official account bad key", change: map[string]string{"WECHAT_MODE": "official-account", "WECHAT_APP_ID": "wx1", "WECHAT_APP_SECRET": "x", "WECHAT_TOKEN": "y", "WECHAT_ENCODING_AES_KEY": "short"}, setting: "WECHAT_ENCODING_AES_KEY"},
		{name: "metadata url", change: map[string]string{"BOT_OPENID_METADATA_URL": "login"}, setting: "BOT_OPENID_METADATA_URL"},
		{name: "tab metadata url", change: map[string]string{"TAB_OPENID_METADATA_URL": "login"}, setting: "TAB_OPENID_METADATA_URL"},
		{name: "admins are object ids", change: map[string]string{"MULTILINE_ADMINS": "0b5d3c1e-6f2a-4e57-9d1c-2a3b4c5d6e7f, alice@contoso.com"}, setting: "MULTILINE_ADMINS"},
		{name: "admins listed", change: map[string]string{"MULTILINE_ADMINS": "0b5d3c1e-6f2a-4e57-9d1c-2a3b4c5d6e7f,7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"}},
		{name: "kf account", change: map[string]string{"WECOM_OPEN_KFID": "wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw"}},
		{name: "kf account malformed", change: map[string]string{"WECOM_OPEN_KFID": "wk a/b"}, setting: "WECOM_OPEN_KFID"},
		{name: "metrics on another port", change: map[string]string{"MULTILINE_METRICS_ADDR": "0.0.0.0:9100"}},
		{name: "metrics off", change: map[string]string{"MULTILINE_METRICS_ADDR": "off"}},
		{name: "metrics on the loopback beside a public listener on another host", change: map[string]string{"MULTILINE_ADDR": "10.0.0.5:3978", "MULTILINE_METRICS_ADDR": "127.0.0.1:3978"}},
		{name: "metrics not an address", change: map[string]string{"MULTILINE_METRICS_ADDR": "9464"}, setting: "MULTILINE_METRICS_ADDR"},
		{name: "metrics port not a number", change: map[string]string{"MULTILINE_METRICS_ADDR": "127.0.0.1:metrics"}, setting: "MULTILINE_METRICS_ADDR"},
		{name: "metrics on the public listener", change: map[string]string{"MULTILINE_ADDR": ":3978", "MULTILINE_METRICS_ADDR": "127.0.0.1:3978"}, setting: "MULTILINE_METRICS_ADDR"},
		{name: "metrics on the public address", change: map[string]string{"MULTILINE_ADDR": "127.0.0.1:8080", "MULTILINE_METRICS_ADDR": "127.0.0.1:8080"}, setting: "MULTILINE_METRICS_ADDR"},
		{name: "metrics on every interface at the public port", change: map[string]string{"MULTILINE_ADDR": "10.0.0.5:3978", "MULTILINE_METRICS_ADDR": ":3978"}, setting: "MULTILINE_METRICS_ADDR"},
		{name: "log format json", change: map[string]string{"MULTILINE_LOG_FORMAT": "json"}},
		{name: "log format JSON", change: map[string]string{"MULTILINE_LOG_FORMAT": "JSON"}},
		{name: "log format unknown", change: map[string]string{"MULTILINE_LOG_FORMAT": "logfmt"}, setting: "MULTILINE_LOG_FORMAT"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := prodEnv()
			for k, v := range tc.change {
				env[k] = v
			}
			cfg, err := LoadConfig(func(k string) string { return env[k] }, tc.dev)
			if tc.setting == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Name != tc.setting {
				t.Fatalf("error %v, want one naming %s", err, tc.setting)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("the message must be one line: %q", err)
			}
			for _, secret := range []string{"s3cr3t-password-value", "kf-secret-value", "callback-token-value", env["WECOM_ENCODING_AES_KEY"]} {
				if secret != "" && strings.Contains(err.Error(), secret) {
					t.Errorf("the message shows a secret: %q", err)
				}
			}
			_ = cfg
		})
	}
}

func TestDevDefaults(t *testing.T) {
	cfg, err := LoadConfig(func(string) string { return "" }, true)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:3978" || cfg.DatabaseURL != "sqlite:./data/multiline.db" || cfg.WeChatMode != "wecom-kf" || !ValidAESKey(cfg.WeComAESKey) {
		t.Errorf("local defaults: %+v", cfg)
	}
	if cfg.MetricsAddr != "127.0.0.1:9464" || cfg.MetricsAddrSet || cfg.LogFormat != "text" {
		t.Errorf("metrics and log defaults: %q set=%v %q", cfg.MetricsAddr, cfg.MetricsAddrSet, cfg.LogFormat)
	}
}

func TestMetricsAndLogSettings(t *testing.T) {
	for _, tc := range []struct {
		metrics, format string
		wantAddr        string
		wantSet         bool
		wantFormat      string
	}{
		{"", "", "127.0.0.1:9464", false, "text"},
		{"  ", "", "127.0.0.1:9464", false, "text"},
		{"off", "json", "", true, "json"},
		{"OFF", "Text", "", true, "text"},
		{"127.0.0.1:9100", "", "127.0.0.1:9100", true, "text"},
	} {
		env := prodEnv()
		env["MULTILINE_METRICS_ADDR"], env["MULTILINE_LOG_FORMAT"] = tc.metrics, tc.format
		cfg, err := LoadConfig(func(k string) string { return env[k] }, false)
		if err != nil {
			t.Fatalf("%q %q: %v", tc.metrics, tc.format, err)
		}
		if cfg.MetricsAddr != tc.wantAddr || cfg.MetricsAddrSet != tc.wantSet || cfg.LogFormat != tc.wantFormat {
			t.Errorf("MULTILINE_METRICS_ADDR=%q MULTILINE_LOG_FORMAT=%q: addr %q set=%v format %q", tc.metrics, tc.format,
				cfg.MetricsAddr, cfg.MetricsAddrSet, cfg.LogFormat)
		}
	}
}

func TestSettingsTableCoversConfig(t *testing.T) {
	// Every setting of design.md is in the table the README is written from.
	want := []string{"MicrosoftAppId", "MicrosoftAppPassword", "MicrosoftAppTenantId", "MicrosoftAppType",
		"MULTILINE_DATABASE_URL", "MULTILINE_ADDR", "MULTILINE_PUBLIC_URL", "WECHAT_MODE", "WECOM_CORP_ID",
		"WECOM_KF_SECRET", "WECOM_CALLBACK_TOKEN", "WECOM_ENCODING_AES_KEY", "WECOM_API_BASE", "WECHAT_APP_ID",
		"WECHAT_APP_SECRET", "WECHAT_TOKEN", "WECHAT_ENCODING_AES_KEY", "WECHAT_API_BASE", "BOT_OPENID_METADATA_URL",
		"WECOM_OPEN_KFID", "MULTILINE_ADMINS", "TAB_OPENID_METADATA_URL", "MULTILINE_METRICS_ADDR", "MULTILINE_LOG_FORMAT"}
	have := map[string]bool{}
	for _, s := range settings {
		have[s.Name] = true
	}
	for _, n := range want {
		if !have[n] {
			t.Errorf("setting %s missing from the table", n)
		}
	}
}
