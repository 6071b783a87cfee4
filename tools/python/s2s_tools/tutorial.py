"""s2s_tools.tutorial - the model of the PyTorch "NLP From Scratch: Translation with a
Sequence to Sequence Network and Attention" tutorial, re-written for s2s from
the tutorial's description (not its code), so that its checkpoints can be
trained, evaluated and exported (tools/export --from tutorial).

What the tutorial defines, and this module mirrors:
  - SOS_token 0, EOS_token 1, MAX_LENGTH 10.
  - Lang: word2index (words only), word2count, index2word {0: "SOS", 1: "EOS"},
    n_words starting at 2; words are numbered in order of first appearance.
  - normalizeString: lowercase + strip, NFD and drop combining marks (Mn),
    a space before each of . ! ?, every run of characters outside a-zA-Z!?
    becomes one space, strip.
  - readLangs / filterPairs / prepareData: the English-French pair file, the
    "fewer than MAX_LENGTH words" filter and the English-prefix filter
    (with reverse=True the pairs are French -> English).
  - EncoderRNN: embedding(V, H) -> dropout -> GRU(H, H, batch_first=True).
  - BahdanauAttention: Wa, Ua = Linear(H, H), Va = Linear(H, 1);
    scores = Va(tanh(Wa(query) + Ua(keys))), softmax over source positions,
    context = weights @ keys.
  - AttnDecoderRNN: embedding(V, H), attention, GRU(2H, H, batch_first=True),
    out Linear(H, V), dropout; every step (forward_step) uses
    query = hidden.permute(1, 0, 2), feeds cat(embedded, context) to the GRU,
    and runs MAX_LENGTH steps (teacher forcing when a target is given, else
    its own arg-max); outputs go through log_softmax.
  - evaluate: greedy decoding for MAX_LENGTH steps, words up to the first
    EOS (which is reported as "<EOS>").

The checkpoint a tutorial user saves, and tools/export reads:

    torch.save({"encoder": encoder.state_dict(), "decoder": decoder.state_dict(),
                "input_lang": input_lang.word2index,
                "output_lang": output_lang.word2index}, "tutorial.pt")

train_pairs() is a compact version of the tutorial's training recipe
(padded batches of MAX_LENGTH, NLLLoss over every position, Adam) for tests
and the shipped tutorial-architecture model.
"""

import random
import re
import time
import unicodedata

import torch
import torch.nn as nn
import torch.nn.functional as F

SOS_token = 0
EOS_token = 1
MAX_LENGTH = 10

eng_prefixes = (
    "i am ", "i m ",
    "he is", "he s ",
    "she is", "she s ",
    "you are", "you re ",
    "we are", "we re ",
    "they are", "they re ",
)


class Lang:
    """A vocabulary built word by word: ids 0 and 1 are SOS and EOS (only in
    index2word), real words start at 2."""

    def __init__(self, name):
        self.name = name
        self.word2index = {}
        self.word2count = {}
        self.index2word = {SOS_token: "SOS", EOS_token: "EOS"}
        self.n_words = 2

    def addSentence(self, sentence):
        for word in sentence.split(" "):
            self.addWord(word)

    def addWord(self, word):
        if word in self.word2index:
            self.word2count[word] += 1
            return
        self.word2index[word] = self.n_words
        self.word2count[word] = 1
        self.index2word[self.n_words] = word
        self.n_words += 1


def unicodeToAscii(s):
    """NFD-decomposes `s` and drops every combining mark (category Mn)."""
    return "".join(ch for ch in unicodedata.normalize("NFD", s)
                   if unicodedata.category(ch) != "Mn")


def normalizeString(s):
    """The tutorial's normalizer (see the module docstring)."""
    s = unicodeToAscii(s.lower().strip())
    s = re.sub(r"([.!?])", r" \1", s)
    s = re.sub(r"[^a-zA-Z!?]+", r" ", s)
    return s.strip()


def readLangs(path, lang1="eng", lang2="fra", reverse=False):
    """Reads `path` (lang1<TAB>lang2 per line; extra columns ignored) ->
    (input Lang, output Lang, normalized pairs). reverse swaps the sides."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().strip().split("\n")
    pairs = [[normalizeString(s) for s in line.split("\t")[:2]] for line in lines]
    if reverse:
        pairs = [list(reversed(p)) for p in pairs]
        return Lang(lang2), Lang(lang1), pairs
    return Lang(lang1), Lang(lang2), pairs


def filterPair(p):
    """True when both sides have fewer than MAX_LENGTH words and the English
    side (p[1]) starts with one of eng_prefixes."""
    return (len(p[0].split(" ")) < MAX_LENGTH and len(p[1].split(" ")) < MAX_LENGTH
            and p[1].startswith(eng_prefixes))


def filterPairs(pairs):
    return [p for p in pairs if filterPair(p)]


def prepareData(path, lang1="eng", lang2="fra", reverse=True):
    """readLangs + filterPairs + both vocabularies filled."""
    input_lang, output_lang, pairs = readLangs(path, lang1, lang2, reverse)
    pairs = filterPairs(pairs)
    for p in pairs:
        input_lang.addSentence(p[0])
        output_lang.addSentence(p[1])
    return input_lang, output_lang, pairs


def indexesFromSentence(lang, sentence):
    return [lang.word2index[word] for word in sentence.split(" ")]


def tensorFromSentence(lang, sentence):
    """Word ids followed by EOS, shape (1, n)."""
    ids = indexesFromSentence(lang, sentence) + [EOS_token]
    return torch.tensor(ids, dtype=torch.long).view(1, -1)


class EncoderRNN(nn.Module):
    def __init__(self, input_size, hidden_size, dropout_p=0.1):
        super().__init__()
        self.hidden_size = hidden_size
        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, input):
        """input (B, n) -> (outputs (B, n, H), hidden (1, B, H))."""
        return self.gru(self.dropout(self.embedding(input)))


class BahdanauAttention(nn.Module):
    def __init__(self, hidden_size):
        super().__init__()
        self.Wa = nn.Linear(hidden_size, hidden_size)
        self.Ua = nn.Linear(hidden_size, hidden_size)
        self.Va = nn.Linear(hidden_size, 1)

    def forward(self, query, keys):
        """query (B, 1, H), keys (B, n, H) -> (context (B, 1, H), weights (B, 1, n))."""
        scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys)))  # (B, n, 1)
        weights = F.softmax(scores.transpose(1, 2), dim=-1)
        return torch.bmm(weights, keys), weights


class AttnDecoderRNN(nn.Module):
    def __init__(self, hidden_size, output_size, dropout_p=0.1):
        super().__init__()
        self.embedding = nn.Embedding(output_size, hidden_size)
        self.attention = BahdanauAttention(hidden_size)
        self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, output_size)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, encoder_outputs, encoder_hidden, target_tensor=None):
        """Runs MAX_LENGTH steps from SOS -> (log-probabilities (B, MAX_LENGTH, V),
        final hidden, attention weights (B, MAX_LENGTH, n)). With a target
        (B, MAX_LENGTH) the next input is the target token (teacher forcing),
        else the arg-max of the step."""
        batch = encoder_outputs.size(0)
        decoder_input = torch.full((batch, 1), SOS_token, dtype=torch.long)
        hidden = encoder_hidden
        outputs, attentions = [], []
        for i in range(MAX_LENGTH):
            output, hidden, weights = self.forward_step(decoder_input, hidden, encoder_outputs)
            outputs.append(output)
            attentions.append(weights)
            if target_tensor is not None:
                decoder_input = target_tensor[:, i].unsqueeze(1)
            else:
                decoder_input = output.topk(1)[1].squeeze(-1).detach()
        logp = F.log_softmax(torch.cat(outputs, dim=1), dim=-1)
        return logp, hidden, torch.cat(attentions, dim=1)

    def forward_step(self, input, hidden, encoder_outputs):
        """One step: input (B, 1), hidden (1, B, H) -> (logits (B, 1, V),
        hidden, weights (B, 1, n))."""
        embedded = self.dropout(self.embedding(input))
        query = hidden.permute(1, 0, 2)
        context, weights = self.attention(query, encoder_outputs)
        output, hidden = self.gru(torch.cat((embedded, context), dim=2), hidden)
        return self.out(output), hidden, weights


def evaluate(encoder, decoder, sentence, input_lang, output_lang):
    """Greedy translation of an already normalized `sentence` ->
    (words up to and including "<EOS>" when emitted, attention (1, MAX_LENGTH, n)).
    Call encoder.eval() / decoder.eval() first to switch dropout off."""
    with torch.no_grad():
        input_tensor = tensorFromSentence(input_lang, sentence)
        encoder_outputs, encoder_hidden = encoder(input_tensor)
        logp, _, attentions = decoder(encoder_outputs, encoder_hidden)
        ids = logp.topk(1)[1].squeeze()
        words = []
        for idx in ids.view(-1).tolist():
            if idx == EOS_token:
                words.append("<EOS>")
                break
            words.append(output_lang.index2word[idx])
    return words, attentions


def padded_tensors(pairs, input_lang, output_lang):
    """Each side as (N, MAX_LENGTH) ids: the words, EOS, then 0 padding."""
    n = len(pairs)
    inp = torch.zeros(n, MAX_LENGTH, dtype=torch.long)
    tgt = torch.zeros(n, MAX_LENGTH, dtype=torch.long)
    for i, (a, b) in enumerate(pairs):
        x = indexesFromSentence(input_lang, a) + [EOS_token]
        y = indexesFromSentence(output_lang, b) + [EOS_token]
        inp[i, :len(x)] = torch.tensor(x)
        tgt[i, :len(y)] = torch.tensor(y)
    return inp, tgt


def train_pairs(pairs, input_lang, output_lang, hidden_size=128, epochs=80, batch_size=32,
                lr=0.001, seconds=None, seed=0, log=None):
    """Trains an EncoderRNN / AttnDecoderRNN pair the tutorial's way (padded
    batches, teacher forcing, NLLLoss over all MAX_LENGTH positions, Adam)
    for `epochs` epochs or until `seconds` have passed -> (encoder, decoder)
    in eval mode. `log(epoch, loss)` is called after each epoch."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    encoder = EncoderRNN(input_lang.n_words, hidden_size)
    decoder = AttnDecoderRNN(hidden_size, output_lang.n_words)
    inp, tgt = padded_tensors(pairs, input_lang, output_lang)
    enc_opt = torch.optim.Adam(encoder.parameters(), lr=lr)
    dec_opt = torch.optim.Adam(decoder.parameters(), lr=lr)
    criterion = nn.NLLLoss()
    start = time.time()
    encoder.train()
    decoder.train()
    for epoch in range(1, epochs + 1):
        order = list(range(len(pairs)))
        rng.shuffle(order)
        total = 0.0
        for b in range(0, len(order), batch_size):
            idx = torch.tensor(order[b:b + batch_size])
            x, y = inp[idx], tgt[idx]
            enc_opt.zero_grad()
            dec_opt.zero_grad()
            enc_out, enc_hidden = encoder(x)
            logp, _, _ = decoder(enc_out, enc_hidden, y)
            loss = criterion(logp.reshape(-1, logp.size(-1)), y.reshape(-1))
            loss.backward()
            enc_opt.step()
            dec_opt.step()
            total += loss.item()
        if log:
            log(epoch, total / max(1, (len(order) + batch_size - 1) // batch_size))
        if seconds is not None and time.time() - start > seconds:
            break
    encoder.eval()
    decoder.eval()
    return encoder, decoder


def save_checkpoint(path, encoder, decoder, input_lang, output_lang):
    """Saves the checkpoint a tutorial user saves (see the module docstring)."""
    torch.save({"encoder": encoder.state_dict(), "decoder": decoder.state_dict(),
                "input_lang": input_lang.word2index,
                "output_lang": output_lang.word2index}, path)


def load_checkpoint(path):
    """Loads a tutorial checkpoint -> (encoder, decoder, input_lang, output_lang),
    modules in eval mode, Langs rebuilt from word2index."""
    ck = torch.load(path, map_location="cpu")
    langs = []
    for key in ("input_lang", "output_lang"):
        lang = Lang(key)
        for w, i in ck[key].items():
            lang.word2index[w] = int(i)
            lang.word2count[w] = 1
            lang.index2word[int(i)] = w
        lang.n_words = max([1] + list(lang.index2word)) + 1
        langs.append(lang)
    hidden = ck["encoder"]["embedding.weight"].shape[1]
    encoder = EncoderRNN(ck["encoder"]["embedding.weight"].shape[0], hidden)
    decoder = AttnDecoderRNN(hidden, ck["decoder"]["embedding.weight"].shape[0])
    encoder.load_state_dict(ck["encoder"])
    decoder.load_state_dict(ck["decoder"])
    encoder.eval()
    decoder.eval()
    return encoder, decoder, langs[0], langs[1]
