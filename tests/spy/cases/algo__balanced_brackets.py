PAIRS = {")": "(", "]": "[", "}": "{"}


def balanced(s):
    stack = []
    for ch in s:
        if ch in "([{":
            stack.append(ch)
        elif ch in PAIRS:
            if not stack or stack.pop() != PAIRS[ch]:
                return False
    return not stack


tests = ["()", "([]{})", "(]", "((", "", "{[()()]}", "}{", "a(b)c"]
print([(t, balanced(t)) for t in tests])
result = [balanced(t) for t in tests]
