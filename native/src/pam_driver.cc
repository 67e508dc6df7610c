// A libpam driver: pam_start_confdir → set items → pam_authenticate →
// pam_acct_mgmt → pam_end, off the main thread, with a scripted conversation.
//
// Used by `jmp-agent doctor` and by tests to run real PAM stacks (including
// pam_jmp.so) from a private configuration directory. Prompts are answered
// from a list of answers in order; the answers may be tickets, so every copy
// this code makes is wiped as soon as it is no longer needed. (The JavaScript
// strings they came from live in the V8 heap and cannot be wiped from here.)
#include <security/pam_appl.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "jmp_native.h"

namespace jmp {

namespace {

constexpr size_t kMaxMessages = 32;        // recorded; further ones still get answers
constexpr size_t kMaxMessageBytes = 1024;  // each recorded text is cut to this
constexpr size_t kMaxAnswers = 32;
constexpr size_t kMaxStringBytes = 64 * 1024;

void Wipe(void* p, size_t n) {
  if (p != nullptr && n > 0) explicit_bzero(p, n);
}

// A NUL-terminated copy of a secret, read straight from the JavaScript string
// into its own buffer (no intermediate std::string), wiped on destruction.
class Secret {
 public:
  Secret() = default;
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  Secret(Secret&& other) noexcept : data_(other.data_), size_(other.size_) {
    other.data_ = nullptr;
    other.size_ = 0;
  }
  Secret& operator=(Secret&& other) noexcept {
    if (this != &other) {
      Clear();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  ~Secret() { Clear(); }

  // Returns false (and stays empty) if the value contains a NUL character.
  bool Read(napi_env env, napi_value value) {
    size_t len = 0;
    NAPI_THROW_IF_FAILED(env, napi_get_value_string_utf8(env, value, nullptr, 0, &len), false);
    if (len > kMaxStringBytes) return false;
    data_ = static_cast<char*>(std::malloc(len + 1));
    if (data_ == nullptr) throw std::bad_alloc();
    size_ = len + 1;
    size_t written = 0;
    NAPI_THROW_IF_FAILED(env, napi_get_value_string_utf8(env, value, data_, len + 1, &written),
                         false);
    if (std::strlen(data_) != written) {
      Clear();
      return false;
    }
    return true;
  }

  // A malloc'ed copy for a pam_response (PAM frees it; pam modules are
  // expected to wipe it, as Linux-PAM's own modules do).
  char* DupForPam() const {
    char* copy = static_cast<char*>(std::malloc(size_));
    if (copy != nullptr) std::memcpy(copy, data_, size_);
    return copy;
  }

  void Clear() {
    Wipe(data_, size_);
    std::free(data_);
    data_ = nullptr;
    size_ = 0;
  }

 private:
  char* data_ = nullptr;
  size_t size_ = 0;  // including the NUL
};

struct Message {
  const char* style;
  std::string text;
};

// Everything the conversation function touches. Lives in the worker.
struct Conversation {
  std::vector<Secret> answers;
  size_t next_answer = 0;
  std::vector<Message> messages;
  size_t dropped = 0;  // messages beyond kMaxMessages

  void Record(const char* style, const char* text) {
    if (messages.size() >= kMaxMessages) {
      ++dropped;
      return;
    }
    std::string t = text != nullptr ? text : "";
    if (t.size() > kMaxMessageBytes) {
      size_t cut = kMaxMessageBytes;
      // Do not split a UTF-8 sequence: back up over continuation bytes.
      while (cut > 0 && (static_cast<unsigned char>(t[cut]) & 0xC0) == 0x80) --cut;
      t.resize(cut);
    }
    messages.push_back(Message{style, std::move(t)});
  }

  void WipeAnswers() {
    for (Secret& s : answers) s.Clear();
  }
};

void FreeResponses(pam_response* resp, int n) {
  if (resp == nullptr) return;
  for (int i = 0; i < n; ++i) {
    if (resp[i].resp != nullptr) {
      Wipe(resp[i].resp, std::strlen(resp[i].resp));
      std::free(resp[i].resp);
    }
  }
  std::free(resp);
}

// The PAM conversation function. Runs on the worker thread, inside libpam.
// Must not throw: any failure is a PAM code.
int Converse(int num_msg, const pam_message** msg, pam_response** resp_out, void* appdata) {
  if (num_msg <= 0 || num_msg > PAM_MAX_NUM_MSG || msg == nullptr || resp_out == nullptr ||
      appdata == nullptr) {
    return PAM_CONV_ERR;
  }
  *resp_out = nullptr;
  auto* conv = static_cast<Conversation*>(appdata);
  auto* resp =
      static_cast<pam_response*>(std::calloc(static_cast<size_t>(num_msg), sizeof(pam_response)));
  if (resp == nullptr) return PAM_BUF_ERR;
  try {
    for (int i = 0; i < num_msg; ++i) {
      const pam_message* m = msg[i];
      if (m == nullptr) {
        FreeResponses(resp, num_msg);
        return PAM_CONV_ERR;
      }
      switch (m->msg_style) {
        case PAM_PROMPT_ECHO_OFF:
        case PAM_PROMPT_ECHO_ON: {
          conv->Record(m->msg_style == PAM_PROMPT_ECHO_OFF ? "prompt_echo_off" : "prompt_echo_on",
                       m->msg);
          if (conv->next_answer >= conv->answers.size()) {
            FreeResponses(resp, num_msg);
            return PAM_CONV_ERR;  // no answer left for this prompt
          }
          Secret& answer = conv->answers[conv->next_answer++];
          resp[i].resp = answer.DupForPam();
          answer.Clear();  // used once; the only copy left is PAM's
          if (resp[i].resp == nullptr) {
            FreeResponses(resp, num_msg);
            return PAM_BUF_ERR;
          }
          break;
        }
        case PAM_ERROR_MSG:
          conv->Record("error", m->msg);
          break;
        case PAM_TEXT_INFO:
          conv->Record("info", m->msg);
          break;
        default:  // PAM_BINARY_PROMPT and anything else: not supported
          FreeResponses(resp, num_msg);
          return PAM_CONV_ERR;
      }
    }
  } catch (...) {  // std::bad_alloc from recording
    FreeResponses(resp, num_msg);
    return PAM_BUF_ERR;
  }
  *resp_out = resp;
  return PAM_SUCCESS;
}

const char* PamCodeName(int code) {
  switch (code) {
#define JMP_PAM_CODE(name) \
  case name:               \
    return #name;
    JMP_PAM_CODE(PAM_SUCCESS)
    JMP_PAM_CODE(PAM_OPEN_ERR)
    JMP_PAM_CODE(PAM_SYMBOL_ERR)
    JMP_PAM_CODE(PAM_SERVICE_ERR)
    JMP_PAM_CODE(PAM_SYSTEM_ERR)
    JMP_PAM_CODE(PAM_BUF_ERR)
    JMP_PAM_CODE(PAM_PERM_DENIED)
    JMP_PAM_CODE(PAM_AUTH_ERR)
    JMP_PAM_CODE(PAM_CRED_INSUFFICIENT)
    JMP_PAM_CODE(PAM_AUTHINFO_UNAVAIL)
    JMP_PAM_CODE(PAM_USER_UNKNOWN)
    JMP_PAM_CODE(PAM_MAXTRIES)
    JMP_PAM_CODE(PAM_NEW_AUTHTOK_REQD)
    JMP_PAM_CODE(PAM_ACCT_EXPIRED)
    JMP_PAM_CODE(PAM_SESSION_ERR)
    JMP_PAM_CODE(PAM_CRED_UNAVAIL)
    JMP_PAM_CODE(PAM_CRED_EXPIRED)
    JMP_PAM_CODE(PAM_CRED_ERR)
    JMP_PAM_CODE(PAM_NO_MODULE_DATA)
    JMP_PAM_CODE(PAM_CONV_ERR)
    JMP_PAM_CODE(PAM_AUTHTOK_ERR)
    JMP_PAM_CODE(PAM_AUTHTOK_RECOVERY_ERR)
    JMP_PAM_CODE(PAM_AUTHTOK_LOCK_BUSY)
    JMP_PAM_CODE(PAM_AUTHTOK_DISABLE_AGING)
    JMP_PAM_CODE(PAM_TRY_AGAIN)
    JMP_PAM_CODE(PAM_IGNORE)
    JMP_PAM_CODE(PAM_ABORT)
    JMP_PAM_CODE(PAM_AUTHTOK_EXPIRED)
    JMP_PAM_CODE(PAM_MODULE_UNKNOWN)
    JMP_PAM_CODE(PAM_BAD_ITEM)
    JMP_PAM_CODE(PAM_CONV_AGAIN)
    JMP_PAM_CODE(PAM_INCOMPLETE)
#undef JMP_PAM_CODE
    default:
      return "PAM_UNKNOWN_CODE";
  }
}

// An optional string option: absent (undefined/null) or a string without NUL.
bool ReadOptional(Napi::Object opts, const char* key, bool* present, std::string* out) {
  Napi::Value v = opts.Get(key);
  if (v.IsUndefined() || v.IsNull()) {
    *present = false;
    return true;
  }
  if (!v.IsString()) return false;
  *out = v.As<Napi::String>().Utf8Value();
  if (out->find('\0') != std::string::npos || out->size() > kMaxStringBytes) return false;
  *present = true;
  return true;
}

class PamWorker : public Napi::AsyncWorker {
 public:
  PamWorker(Napi::Env env, Napi::Promise::Deferred deferred)
      : Napi::AsyncWorker(env, "jmp.pamAuthenticate"), deferred_(deferred) {}

  ~PamWorker() override { conv_.WipeAnswers(); }

  std::string service, user, confdir, rhost, tty, ruser;
  bool has_confdir = false, has_rhost = false, has_tty = false, has_ruser = false;
  Conversation& conversation() { return conv_; }

 protected:
  void Execute() override {
    pam_conv conv{&Converse, &conv_};
    pam_handle_t* pamh = nullptr;
    step_ = "start";
    code_ = pam_start_confdir(service.c_str(), user.c_str(), &conv,
                              has_confdir ? confdir.c_str() : nullptr, &pamh);
    if (code_ != PAM_SUCCESS || pamh == nullptr) {
      if (code_ == PAM_SUCCESS) code_ = PAM_SYSTEM_ERR;
      conv_.WipeAnswers();
      return;
    }
    step_ = "set_item";
    if (has_rhost) code_ = pam_set_item(pamh, PAM_RHOST, rhost.c_str());
    if (code_ == PAM_SUCCESS && has_tty) code_ = pam_set_item(pamh, PAM_TTY, tty.c_str());
    if (code_ == PAM_SUCCESS && has_ruser) code_ = pam_set_item(pamh, PAM_RUSER, ruser.c_str());
    if (code_ == PAM_SUCCESS) {
      step_ = "authenticate";
      code_ = pam_authenticate(pamh, 0);
    }
    if (code_ == PAM_SUCCESS) {
      step_ = "account";
      code_ = pam_acct_mgmt(pamh, 0);
    }
    pam_end(pamh, code_);
    conv_.WipeAnswers();
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("result", Napi::String::New(env, PamCodeName(code_)));
    out.Set("code", Napi::Number::New(env, code_));
    out.Set("step", Napi::String::New(env, step_));
    Napi::Array messages = Napi::Array::New(env, conv_.messages.size());
    for (size_t i = 0; i < conv_.messages.size(); ++i) {
      Napi::Object m = Napi::Object::New(env);
      m.Set("style", Napi::String::New(env, conv_.messages[i].style));
      m.Set("text", Napi::String::New(env, conv_.messages[i].text));
      messages.Set(static_cast<uint32_t>(i), m);
    }
    out.Set("messages", messages);
    out.Set("messagesDropped", Napi::Number::New(env, static_cast<double>(conv_.dropped)));
    out.Set("answersUsed", Napi::Number::New(env, static_cast<double>(conv_.next_answer)));
    deferred_.Resolve(out);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Conversation conv_;
  const char* step_ = "start";
  int code_ = PAM_SYSTEM_ERR;
};

}  // namespace

Napi::Value PamAuthenticate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    throw Napi::TypeError::New(env, "pam.authenticate: expected an options object");
  }
  Napi::Object opts = info[0].As<Napi::Object>();
  auto deferred = Napi::Promise::Deferred::New(env);
  // Owned here until Queue(); AsyncWorker deletes itself after OnOK/OnError.
  auto worker = std::make_unique<PamWorker>(env, deferred);

  bool has_service = false, has_user = false;
  if (!ReadOptional(opts, "service", &has_service, &worker->service) || !has_service ||
      worker->service.empty() || worker->service.find('/') != std::string::npos) {
    throw Napi::TypeError::New(
        env, "pam.authenticate: `service` must be a non-empty string without \"/\" or NUL");
  }
  if (!ReadOptional(opts, "user", &has_user, &worker->user) || !has_user || worker->user.empty()) {
    throw Napi::TypeError::New(env,
                               "pam.authenticate: `user` must be a non-empty string without NUL");
  }
  if (!ReadOptional(opts, "confdir", &worker->has_confdir, &worker->confdir) ||
      (worker->has_confdir && worker->confdir.empty())) {
    throw Napi::TypeError::New(
        env, "pam.authenticate: `confdir` must be a non-empty string (omit it for /etc/pam.d)");
  }
  if (!ReadOptional(opts, "rhost", &worker->has_rhost, &worker->rhost)) {
    throw Napi::TypeError::New(env, "pam.authenticate: `rhost` must be a string without NUL");
  }
  if (!ReadOptional(opts, "tty", &worker->has_tty, &worker->tty)) {
    throw Napi::TypeError::New(env, "pam.authenticate: `tty` must be a string without NUL");
  }
  if (!ReadOptional(opts, "ruser", &worker->has_ruser, &worker->ruser)) {
    throw Napi::TypeError::New(env, "pam.authenticate: `ruser` must be a string without NUL");
  }

  Napi::Value answers = opts.Get("answers");
  if (!answers.IsUndefined() && !answers.IsNull()) {
    if (!answers.IsArray())
      throw Napi::TypeError::New(env, "pam.authenticate: `answers` must be an array of strings");
    Napi::Array arr = answers.As<Napi::Array>();
    if (arr.Length() > kMaxAnswers) {
      throw Napi::TypeError::New(env, "pam.authenticate: at most 32 answers");
    }
    Conversation& conv = worker->conversation();
    conv.answers.reserve(arr.Length());
    for (uint32_t i = 0; i < arr.Length(); ++i) {
      Napi::Value a = arr.Get(i);
      Secret s;
      if (!a.IsString() || !s.Read(env, a)) {
        throw Napi::TypeError::New(
            env, "pam.authenticate: each answer must be a string without NUL (at most 64 KiB)");
      }
      conv.answers.push_back(std::move(s));
    }
  }

  worker.release()->Queue();
  return deferred.Promise();
}

}  // namespace jmp
