package web

import "github.com/gin-gonic/gin"

func (s *Server) mountOAuth(r *gin.Engine) {}
