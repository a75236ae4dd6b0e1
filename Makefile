# Convenience targets; ./dev is the real entry point (works without make).
.PHONY: lint test demo
lint:
	./dev lint
test:
	./dev test
demo:
	./dev demo
